import Fetch
import Testing

/// The one typed-error assertion of the Fetch tests: `body` must throw a ``FetchError`` with
/// `code`. Records an issue when it returns, throws another error type, or throws another code.
/// - Returns: the error thrown, for checks on its message and subject; `nil` when it was not a
///   ``FetchError``.
@discardableResult
func expectFetchError(
    _ code: FetchError.Code, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) -> FetchError? {
    do {
        try body()
        Issue.record("expected \(code)\(comment.map { " (\($0))" } ?? "")", sourceLocation: sourceLocation)
    } catch let error as FetchError {
        #expect(error.code == code, "\(error)\(comment.map { " (\($0))" } ?? "")", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected FetchError \(code), got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
