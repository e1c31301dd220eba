public import Testing

/// An error with a code to switch on: every module's error type. Test targets declare the
/// conformance of the types they test (`extension CodecError: CodedError {}`).
public protocol CodedError: Error {
    associatedtype Code: Equatable
    var code: Code { get }
}

/// Expects `body` to throw an `E` whose code is `code`, records an issue otherwise, and returns the
/// error for further checks. The one typed-error assertion of the test targets.
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
