import Datasets
import Fetch
import Support
import TestSupport
import Testing

/// Support's and Datasets' errors seen through Fetch: layout, lock and name codes are kept, the
/// others become `fileSystem`.
@Suite struct FetchErrorTests {
    @Test func aSupportErrorKeepsItsMessageAndPathAndMapsItsCode() {
        let cases: [(SupportError.Code, FetchError.Code)] = [
            (.fileSystem, .fileSystem), (.locked, .locked), (.tooLarge, .fileSystem), (.badName, .badName),
        ]
        for (support, fetch) in cases {
            let error = FetchError(SupportError(support, "what went wrong", path: "/some/path"))
            #expect(error == FetchError(fetch, "what went wrong", subject: "/some/path"))
        }
    }

    @Test func aDatasetErrorKeepsItsCodeMessageAndPath() {
        for (dataset, fetch) in [(DatasetError.Code.badLayout, FetchError.Code.badLayout), (.fileSystem, .fileSystem)] {
            let error = FetchError(DatasetError(dataset, "what went wrong", path: "/some/path"))
            #expect(error == FetchError(fetch, "what went wrong", subject: "/some/path"))
        }
    }

    @Test func readingALayoutDirectlyThrowsDatasetError() {
        expectError(DatasetError.self, .badLayout) { try DatasetDirectory(reading: "/no/such/dataprep/folder") }
    }
}
