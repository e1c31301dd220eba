// The C interface of libDataPrepEngine (Sources/CDataPrepEngine/include/dataprep_engine.h): each
// function turns C arguments into a call on an `EngineLoader` and its result or error back into C.
// No Swift error, type or trap crosses it: every error is caught and written into the `dp_error`.
public import CDataPrepEngine

// MARK: - Loader lifetime

/// `dp_loader_open`: see the header.
@_cdecl("dp_loader_open")
public func dp_loader_open(_ json: UnsafePointer<CChar>?, _ failure: UnsafeMutablePointer<dp_error>?) -> OpaquePointer? {
    guard let json else {
        report(EngineError.invalid("", "the options are null"), to: failure)
        return nil
    }
    do {
        let loader = try EngineLoader(json: String(cString: json))
        report(nil, to: failure)
        return OpaquePointer(Unmanaged.passRetained(loader).toOpaque())
    } catch {
        report(error, to: failure)
        return nil
    }
}

/// `dp_loader_close`: see the header.
@_cdecl("dp_loader_close")
public func dp_loader_close(_ handle: OpaquePointer?) {
    guard let handle else { return }
    let loader = Unmanaged<EngineLoader>.fromOpaque(UnsafeRawPointer(handle))
    loader.takeUnretainedValue().close()
    loader.release()
}

// MARK: - Calls

/// `dp_loader_describe`: see the header.
@_cdecl("dp_loader_describe")
public func dp_loader_describe(_ handle: OpaquePointer?, _ buffer: UnsafeMutablePointer<CChar>?, _ capacity: Int64) -> Int64 {
    guard let loader = loader(handle) else { return -1 }
    let utf8 = Array(loader.describe().utf8)
    if let buffer, capacity > Int64(utf8.count) {
        utf8.withUnsafeBufferPointer { bytes in
            UnsafeMutableRawPointer(buffer).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        }
        buffer[utf8.count] = 0
    }
    return Int64(utf8.count)
}

/// `dp_loader_attach`: see the header.
@_cdecl("dp_loader_attach")
public func dp_loader_attach(
    _ handle: OpaquePointer?, _ slots: Int64, _ images: UnsafePointer<UnsafeMutableRawPointer?>?,
    _ labels: UnsafePointer<UnsafeMutablePointer<Int32>?>?, _ failure: UnsafeMutablePointer<dp_error>?
) -> Int32 {
    call(handle, failure) { loader throws(EngineError) in
        guard let images, let labels, (1...Int64(LoaderConfiguration.maximumPrefetch)).contains(slots) else {
            throw .invalid("prefetch", "the ring must be 1...\(LoaderConfiguration.maximumPrefetch) pairs of buffers")
        }
        let count = Int(slots)
        try loader.attach(
            images: Array(UnsafeBufferPointer(start: images, count: count)), labels: Array(UnsafeBufferPointer(start: labels, count: count))
        )
        return 0
    }
}

/// `dp_loader_start`: see the header.
@_cdecl("dp_loader_start")
public func dp_loader_start(_ handle: OpaquePointer?, _ epoch: Int64, _ first: Int64, _ failure: UnsafeMutablePointer<dp_error>?) -> Int32 {
    call(handle, failure) { loader throws(EngineError) in
        try loader.start(epoch: Int(clamping: epoch), first: Int(clamping: first))
        return 0
    }
}

/// `dp_loader_next`: see the header.
@_cdecl("dp_loader_next")
public func dp_loader_next(
    _ handle: OpaquePointer?, _ batch: UnsafeMutablePointer<dp_batch>?, _ failure: UnsafeMutablePointer<dp_error>?
) -> Int32 {
    call(handle, failure) { loader throws(EngineError) in
        guard let next = try loader.next() else { return 0 }
        batch?.pointee = dp_batch(index: Int64(next.index), count: Int64(next.count), slot: Int64(next.index % loader.options.prefetch))
        return 1
    }
}

/// `dp_loader_order`: see the header.
@_cdecl("dp_loader_order")
public func dp_loader_order(
    _ handle: OpaquePointer?, _ epoch: Int64, _ samples: UnsafeMutablePointer<Int64>?, _ capacity: Int64,
    _ failure: UnsafeMutablePointer<dp_error>?
) -> Int32 {
    call(handle, failure) { loader throws(EngineError) in
        let order = try loader.order(epoch: Int(clamping: epoch))
        guard let samples, capacity >= Int64(order.count) else {
            throw .invalid("capacity", "room for \(capacity) samples, the epoch reads \(order.count)")
        }
        for (k, sample) in order.enumerated() { samples[k] = Int64(sample) }
        return 0
    }
}

// MARK: - Marshalling

/// The loader behind `handle`, nil for a null handle.
private func loader(_ handle: OpaquePointer?) -> EngineLoader? {
    handle.map { Unmanaged<EngineLoader>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
}

/// Runs `body` on the loader behind `handle`: its result, or -1 with the error reported.
private func call(
    _ handle: OpaquePointer?, _ failure: UnsafeMutablePointer<dp_error>?, _ body: (EngineLoader) throws(EngineError) -> Int32
) -> Int32 {
    guard let loader = loader(handle) else {
        report(EngineError.misuse("the loader is null"), to: failure)
        return -1
    }
    do {
        let result = try body(loader)
        report(nil, to: failure)
        return result
    } catch {
        report(error, to: failure)
        return -1
    }
}

/// Fills `destination` with `error` (or marks it as no error).
private func report(_ error: (any Error)?, to destination: UnsafeMutablePointer<dp_error>?) {
    guard let destination else { return }
    guard let error else {
        destination.pointee.failed = 0
        return
    }
    let engine = EngineError(error)
    destination.pointee.failed = 1
    destination.pointee.sample = Int64(engine.sample)
    copy(engine.code, into: &destination.pointee.code)
    copy(engine.argument, into: &destination.pointee.argument)
    copy(engine.file, into: &destination.pointee.file)
    copy(engine.message, into: &destination.pointee.message)
}

/// Copies `text` into a fixed C character array, cut at a UTF-8 character boundary to fit and
/// NUL-terminated.
private func copy<Field>(_ text: String, into field: inout Field) {
    withUnsafeMutableBytes(of: &field) { bytes in
        let utf8 = Array(text.utf8)
        var end = min(utf8.count, bytes.count - 1)
        while end > 0 && end < utf8.count && utf8[end] & 0xC0 == 0x80 { end -= 1 }  // never cut a character in two
        bytes.copyBytes(from: utf8[0..<end])
        bytes[end] = 0
    }
}

// MARK: - Sets given by URL

/// `dp_set_materialize`: see the header.
@_cdecl("dp_set_materialize")
public func dp_set_materialize(
    _ json: UnsafePointer<CChar>?, _ buffer: UnsafeMutablePointer<CChar>?, _ capacity: Int64, _ failure: UnsafeMutablePointer<dp_error>?
) -> Int64 {
    guard let json else {
        report(EngineError.invalid("", "the options are null"), to: failure)
        return -1
    }
    do {
        let text = try SetMaterializer.materialize(json: String(cString: json))
        report(nil, to: failure)
        let utf8 = Array(text.utf8)
        if let buffer, capacity > Int64(utf8.count) {
            utf8.withUnsafeBufferPointer { UnsafeMutableRawPointer(buffer).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            buffer[utf8.count] = 0
        }
        return Int64(utf8.count)
    } catch {
        report(error, to: failure)
        return -1
    }
}
