// MARK: - Keras argument names typed as flags

/// What dataprep says when a Keras user types the name of an `ImageDataGenerator`,
/// `flow_from_directory`, `image_dataset_from_directory`, `fit`, `compile` or callback argument as
/// a flag (`--rotation-range`, `--rescale`, `--target_size`): dataprep's equivalent, or that it is
/// not supported and why, instead of argument-parser's "Unknown option" (which answers
/// `--rescale` with "Did you mean '--resume'?"). Names that are dataprep options too (`--seed`,
/// `--shuffle`, `--epochs`, `--batch-size`, `--vertical-flip`, `--cval`, `--interpolation`, ...)
/// are not listed: they keep their meaning.
enum KerasArgumentNames {
    /// What a Keras name stands for here.
    enum Answer: Equatable {
        /// dataprep's option for it, the commands that take it, and what else to know.
        case renamed(String, commands: String, note: String? = nil)
        /// Not a dataprep option: what happens instead, or why it is not supported.
        case instead(String)
    }

    static let augmenting = "train, augment and preview"

    /// Keras's argument name (snake case) → the answer.
    static let answers: [String: Answer] = [
        // ImageDataGenerator
        "rotation_range": .renamed("--rotate DEG", commands: augmenting),
        "width_shift_range": .renamed("--width-shift", commands: augmenting, note: "--shift sets both shift ranges"),
        "height_shift_range": .renamed("--height-shift", commands: augmenting, note: "--shift sets both shift ranges"),
        "shear_range": .renamed("--shear DEG", commands: augmenting, note: "in degrees, as Keras's shear_range"),
        "zoom_range": .renamed("--zoom Z or --zoom LOW,HIGH", commands: augmenting),
        "channel_shift_range": .renamed("--channel-shift", commands: augmenting),
        "brightness_range": .renamed("--brightness LOW,HIGH", commands: augmenting),
        "fill_mode": .renamed("--fill nearest|constant|reflect|wrap", commands: "train, augment, preview and transform"),
        "horizontal_flip": .renamed("--flip", commands: augmenting),
        "interpolation_order": .renamed(
            "--interpolation bilinear|nearest", commands: "pack, train, augment, preview and transform",
            note: "order 1 is bilinear, 0 nearest"),
        "rescale": .instead(
            "the rescale (1/255) is part of every shard set's image spec: train, evaluate, predict and the Python Loader "
                + "multiply the pixels by it, so there is nothing to give"),
        "featurewise_center": featurewise,
        "featurewise_std_normalization": featurewise,
        "samplewise_center": samplewise,
        "samplewise_std_normalization": samplewise,
        "zca_whitening": zca,
        "zca_epsilon": zca,
        "preprocessing_function": .instead(
            "not supported: dataprep cannot call a Python function; apply it to the batches of the Python Loader (dataprep_shards)"),
        "data_format": .instead(
            "shards hold HWC images and train picks its own layout; the Python Loader takes layout='nhwc' (channels_last) "
                + "or layout='nchw' (channels_first)"),
        "validation_split": .instead(
            "split the dataset on disk first, stratified and seeded: `dataprep split DIR --val 0.2 --seed 1 --out OUT`, "
                + "then pack OUT/train and OUT/validation (augment takes OUT); validation data is never augmented"),
        "dtype": .instead("shards hold uint8 pixels and train reads float32; the Python Loader takes dtype='float32' or 'uint8'"),

        // flow_from_directory and image_dataset_from_directory
        "directory": .instead("the folder is the command's argument: `dataprep pack DIR --size WxH --out OUT`"),
        "target_size": targetSize,
        "image_size": targetSize,
        "color_mode": .renamed(
            "--channels 1", commands: "pack and augment",
            note: "color_mode='grayscale' is --channels 1, 'rgb' is --channels 3 (the default); 'rgba' is not supported: "
                + "alpha is composited on white"),
        "class_mode": labels,
        "label_mode": labels,
        "follow_links": .instead("symbolic links to split and class folders are always followed"),
        "subset": .instead(
            "pack the split's own folder (DATASET/train, DATASET/validation); augment takes the split dataset and packs both"),
        "keep_aspect_ratio": aspect,
        "crop_to_aspect_ratio": aspect,

        // fit, compile and the callbacks
        "validation_data": .renamed("--val SET", commands: "train", note: "default: SHARDS/validation when it exists"),
        "steps_per_epoch": .instead(
            "not supported: an epoch reads every training image once (one copy of a pre-augmented set), in batches of --batch-size"),
        "validation_steps": .instead("not supported: validation reads the whole validation set after every epoch"),
        "validation_batch_size": .instead("not supported: validation batches hold --batch-size samples too"),
        "validation_freq": .instead("not supported: validation runs after every epoch"),
        "class_weight": weights,
        "sample_weight": weights,
        "initial_epoch": .renamed(
            "--resume", commands: "train", note: "it continues the run in --run-dir from its checkpoint, at the epoch after it"),
        "verbose": .instead("train prints one line per epoch, and a progress bar within it on a terminal"),
        "callbacks": .instead(
            "the callbacks are train's options: --checkpoint (ModelCheckpoint), --early-stopping (EarlyStopping), "
                + "--lr-schedule (LearningRateScheduler), --stop-at"),
        "learning_rate": .renamed("--lr", commands: "train"),
        "loss": labels,
        "metrics": .instead("train reports loss and accuracy, and val_loss and val_accuracy with a validation set"),
        "patience": .renamed("--early-stopping PATIENCE", commands: "train"),
        "restore_best_weights": .renamed("--restore-best", commands: "train", note: "with --early-stopping"),
        "filepath": .renamed("--checkpoint TEMPLATE", commands: "train", note: "e.g. 'weights.{epoch:02d}-{val_loss:.2f}.dpw'"),
        "save_weights_only": .instead(
            "the files --checkpoint writes hold the weights; the run's checkpoint.dpc holds the whole state for --resume"),
    ]

    static let featurewise = Answer.instead(
        "not supported: it needs statistics of the whole training set (ImageDataGenerator.fit), and dataprep renders every "
            + "sample on its own; the models take pixels × 1/255 (in your own model, a Normalization layer does it)")
    static let samplewise = Answer.instead(
        "not supported: the models take pixels × 1/255, not normalised per image (in your own model, normalise the batch)")
    static let zca = Answer.instead(
        "not supported: ZCA whitening needs the covariance of the whole training set (ImageDataGenerator.fit), and dataprep "
            + "renders every sample on its own")
    static let targetSize = Answer.renamed(
        "--size WIDTHxHEIGHT", commands: "pack, augment, train and preview",
        note: "width first, the reverse of Keras's (height, width): target_size=(150, 200) is --size 200x150")
    static let labels = Answer.instead(
        "labels are class indices in the class order; train ends a two-class model in one sigmoid (binary cross-entropy, "
            + "class_mode='binary') and others in a softmax (sparse categorical cross-entropy)")
    static let aspect = Answer.instead(
        "not supported: images are resized to --size without keeping the aspect ratio, as Keras does by default "
            + "(--keep-aspect is another thing: one zoom factor for both axes)")
    static let weights = Answer.instead("not supported: every sample weighs the same in the loss")

    /// The message for the first Keras argument name among `arguments` (the command line without
    /// the program name), or nil when there is none. A name counts as a flag in Keras's spelling
    /// (`--rotation_range`), with dashes (`--rotation-range`) or with a value (`--rescale=0.5`);
    /// arguments after `--` are not flags.
    static func message(for arguments: [String]) -> String? {
        for argument in arguments.prefix(while: { $0 != "--" }) where argument.hasPrefix("--") {
            let flag = String(argument.split(separator: "=", maxSplits: 1)[0])
            let name = flag.dropFirst(2).replacingOccurrences(of: "-", with: "_")
            guard let answer = answers[name] else { continue }
            return message(flag: flag, name: name, answer: answer)
        }
        return nil
    }

    /// `--rotation-range is Keras's rotation_range: dataprep's option is --rotate DEG (train, ...)`.
    static func message(flag: String, name: String, answer: Answer) -> String {
        switch answer {
        case let .renamed(option, commands, note):
            "\(flag) is Keras's \(name): dataprep's option is \(option) (\(commands))" + (note.map { "; \($0)" } ?? "")
        case let .instead(text):
            "\(flag) is Keras's \(name), not a dataprep option: \(text)"
        }
    }
}
