import Fetch
import Support
import Testing

/// Support's errors seen through Fetch: layout, lock and name codes are kept, the others become `fileSystem`.
@Suite struct FetchErrorTests {
    @Test func aSupportErrorKeepsItsMessageAndPathAndMapsItsCode() {
        let cases: [(SupportError.Code, FetchError.Code)] = [
            (.badLayout, .badLayout), (.fileSystem, .fileSystem), (.locked, .locked), (.tooLarge, .fileSystem),
            (.badName, .badName),
        ]
        for (support, fetch) in cases {
            let error = FetchError(SupportError(support, "what went wrong", path: "/some/path"))
            #expect(error == FetchError(fetch, "what went wrong", subject: "/some/path"))
        }
    }

    @Test func readingALayoutDirectlyThrowsSupportError() {
        #expect(throws: SupportError.self) { try DatasetDirectory(reading: "/no/such/dataprep/folder") }
    }
}
