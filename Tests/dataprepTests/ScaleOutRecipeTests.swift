import Foundation
import Testing

/// docs/scale-out.md is a recipe that runs as written: what a cluster needs that this machine
/// cannot run is checked here as text (`VerifyCommandTests` holds `verify`'s half, and the
/// documentation test runs the blocks that can run here).
@Suite struct ScaleOutRecipeTests {
    static let text: String = {
        let url = DistributionTests.root.appendingPathComponent("docs/scale-out.md")
        return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }()

    /// The fenced blocks of `language` in the document, in order.
    static func blocks(_ language: String) -> [String] {
        text.components(separatedBy: "```" + language + "\n").dropFirst().map { $0.components(separatedBy: "\n```")[0] }
    }

    /// The YAML documents (separated by `---`) of every yaml block.
    static var documents: [String] { blocks("yaml").flatMap { $0.components(separatedBy: "\n---\n") } }

    static func job(_ name: String) -> [String] { documents.filter { $0.contains("kind: Job") && $0.contains("name: \(name)\n") } }

    @Test func theSharedVolumeIsReadWriteManyAndTheDatasetIsPutOnIt() throws {
        let volume = try #require(Self.documents.first { $0.contains("kind: PersistentVolumeClaim") })
        #expect(volume.contains("accessModes: [ReadWriteMany]") && volume.contains("name: dataprep-data"))
        let fetch = try #require(Self.job("dataprep-fetch").first)
        #expect(fetch.contains("\"dataprep\", \"fetch\", \"cats_and_dogs_filtered\"") && fetch.contains("value: /data/dataprep"))
        let augment = try #require(Self.job("dataprep-augment").first)
        #expect(augment.contains("dataprep augment /data/dataprep/datasets/cats_and_dogs_filtered"))
    }

    /// Whether `document` starts only once `job` has completed, with the right to ask.
    static func waits(_ document: String, for job: String) -> Bool {
        document.contains("\"kubectl\", \"wait\", \"--for=condition=complete\", \"job/\(job)\"")
            && document.contains("serviceAccountName: dataprep-waiter")
    }

    @Test func everyJobThatNeedsAnotherWaitsForIt() throws {
        let merges = Self.job("dataprep-merge")
        #expect(merges.count == 2)
        for merge in merges {
            #expect(Self.waits(merge, for: "dataprep-augment"), "the merge starts when every part is complete")
            #expect(merge.contains("&& dataprep verify"), "the merge verifies what it wrote")
        }
        let onVolume = try #require(Self.job("dataprep-augment").first { $0.contains("claimName: dataprep-data") })
        #expect(Self.waits(onVolume, for: "dataprep-fetch"), "the parts start when the dataset is on the volume")
        let onBucket = try #require(Self.job("dataprep-augment").first { $0.contains("s3://") })
        #expect(onBucket.contains("\"dataprep\", \"fetch\", \"cats_and_dogs_filtered\"") && onBucket.contains("emptyDir"))
        let role = try #require(Self.documents.first { $0.contains("kind: Role\n") })
        #expect(role.contains("resources: [jobs]") && role.contains("verbs: [get, list, watch]"))
    }

    @Test func theSLURMFolderForTheLogsIsMadeBeforeSbatch() throws {
        let steps = try #require(Self.blocks("bash").first { $0.contains("sbatch --parsable") })
        let mkdir = try #require(steps.range(of: "mkdir -p parts")), sbatch = try #require(steps.range(of: "sbatch"))
        #expect(mkdir.lowerBound < sbatch.lowerBound)
        let script = try #require(Self.blocks("bash").first { $0.contains("#SBATCH --output=parts/%a.log") })
        #expect(script.contains("\"$DATA\"") && steps.contains("export DATA=$(dataprep fetch"))
    }
}
