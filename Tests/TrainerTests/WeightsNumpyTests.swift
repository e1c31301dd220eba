import Foundation
import Shards
import TestSupport
import Testing

@testable import Trainer

@Suite struct WeightsNumpyTests {
    /// The README's numpy recipe reads every array of a checkpoint back.
    @Test(.enabled(if: Python.hasNumpy, Python.numpyMissing))
    func numpyReadsAWeightsFile() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try Model(
            architecture: Architecture(spec: "conv4,pool,flatten,dense6,output"),
            inputSpec: ImageSpec(width: 8, height: 8, channels: 3), classes: 3, seed: 5)
        try model.saveCheckpoint(to: dir + "/c.dpc")
        let script = """
            import json, numpy as np
            raw = open("\(dir)/c.dpc", "rb").read(); L = np.frombuffer(raw, "<u4", 1, 12)[0]; I = np.frombuffer(raw, "<u8", 1, 16)[0]
            index = json.loads(raw[I:I + L])
            w = {a["name"]: np.frombuffer(raw, "<f4", int(np.prod(a["shape"])), a["offset"]).reshape(a["shape"]) for a in index["arrays"]}
            print(json.dumps({k: [list(v.shape), v.astype(np.float64).ravel().tolist()] for k, v in w.items() if not k.startswith("optimizer/")}))
            """
        let result = Python.run(["-c", script])
        #expect(result.status == 0)
        let decoded = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: [Any]]
        let arrays = try #require(decoded)
        #expect(arrays.count == model.weights.count)
        for weight in model.weights {
            let entry = try #require(arrays[weight.name], "\(weight.name)")
            #expect((entry[0] as? [Int]) == weight.shape)
            #expect((entry[1] as? [Double])?.map(Float.init) == weight.values)
        }
    }
}
