import ArgumentParser
import Foundation
import Trainer

/// `--model`: a trained model, for the commands that use one (evaluate, predict, visualize and
/// export): a weights file or checkpoint, or a run folder, which stands for its
/// ``Fitting/finalWeightsName`` (the weights `train` ended with).
struct ModelOption: ParsableArguments {
    @Option(
        name: .customLong("model"),
        help: ArgumentHelp("A weights file or checkpoint written by train, or a run folder (its final-weights.dpw).", valueName: "model"))
    var path: String

    /// The model `--model` names.
    /// - Throws: ``TrainerError`` `fileSystem` for a folder without final weights (naming its
    ///   checkpoint when it has one), or ``Model/load(from:)``'s errors.
    func load() throws -> Model {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else {
            return try Model.load(from: path)
        }
        let weights = path + "/" + Fitting.finalWeightsName
        guard FileManager.default.fileExists(atPath: weights) else {
            let checkpoint = path + "/" + Fitting.checkpointName
            throw TrainerError(
                .fileSystem,
                "\(path) is a folder without \(Fitting.finalWeightsName) (train writes it when a run ends)"
                    + (FileManager.default.fileExists(atPath: checkpoint)
                        ? ": give its checkpoint, --model \(checkpoint)" : ": give a weights file, a checkpoint or a run folder"))
        }
        return try Model.load(from: weights)
    }
}
