import Fetch
import TestSupport
import Testing

/// `body` must throw a ``FetchError`` with `code` (the shared ``expectError(_:_:_:sourceLocation:_:)``).
/// - Returns: the error thrown, for checks on its message and subject; `nil` when it was not a
///   ``FetchError``.
@discardableResult
func expectFetchError(
    _ code: FetchError.Code, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) -> FetchError? {
    expectError(FetchError.self, code, comment, sourceLocation: sourceLocation, body)
}
