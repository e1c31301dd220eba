public import Support
public import Testing

/// Expects `body` to throw an `E` whose code is `code`, records an issue otherwise, and returns the
/// error (its place and message) for further checks. The one typed-error assertion of the test
/// targets: every module's error type conforms to Support's ``CodedError``.
@discardableResult
public func expectError<E: CodedError, T>(
    _ type: E.Type, _ code: E.Code, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> T
) -> E? {
    let note = comment.map { " (\($0))" } ?? ""
    do {
        _ = try body()
        Issue.record("expected \(E.self).\(code)\(note), but it succeeded", sourceLocation: sourceLocation)
    } catch let error as E {
        #expect(error.code == code, "\(error)\(note)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected \(E.self).\(code), got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
