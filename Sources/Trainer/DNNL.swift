// CNN primitives on the CPU with oneDNN 2.6 (the C API's "op descriptor" style of 2.x). The only
// file that imports CDNNL: everything else sees the Swift types below.
// - SeeAlso: https://oneapi-src.github.io/oneDNN/v2.6/ (C API reference and primitive guides)
//
// Every dnnl_status_t goes through `check`, which turns a failure into `TrainerError.library` naming
// the operation. C handles are owned by final classes whose deinit frees them. Primitive
// descriptors are created with `format_tag_any` where oneDNN should pick a (blocked) layout; the
// layout it picked is read back with `PrimitiveDescriptor.layout(_:)`. The thread count is
// oneDNN's (OpenMP): `OMP_NUM_THREADS`.
import CDNNL

// MARK: - Status funnel

/// Throws `TrainerError.library` when `status` is not success; `operation` names what was attempted.
func check(_ status: dnnl_status_t, _ operation: @autoclosure () -> String) throws {
    guard status != dnnl_success else { return }
    let reason =
        switch status {
        case dnnl_out_of_memory: "out of memory"
        case dnnl_invalid_arguments: "invalid arguments"
        case dnnl_unimplemented: "unimplemented (no kernel for these shapes and layouts)"
        case dnnl_runtime_error: "runtime error"
        case dnnl_not_required: "not required"
        default: "status \(status.rawValue)"
        }
    throw TrainerError(.library, "oneDNN \(operation()) failed: \(reason)")
}

// MARK: - Engine

/// The CPU engine and the in-order stream every primitive of one model runs on. Not shared between
/// threads: a model is used from one thread at a time.
final class Engine {
    fileprivate let engine: dnnl_engine_t
    fileprivate let stream: dnnl_stream_t

    init() throws {
        var engine: dnnl_engine_t?
        try check(dnnl_engine_create(&engine, dnnl_cpu, 0), "CPU engine creation")
        var stream: dnnl_stream_t?
        let status = dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue)
        guard status == dnnl_success, let engine, let stream else {
            dnnl_engine_destroy(engine)
            try check(status, "stream creation")
            throw TrainerError(.library, "oneDNN stream creation returned no stream")
        }
        self.engine = engine
        self.stream = stream
    }

    deinit {
        dnnl_stream_destroy(stream)
        dnnl_engine_destroy(engine)
    }

    /// Blocks until every primitive submitted so far has finished.
    func wait() throws {
        try check(dnnl_stream_wait(stream), "stream wait")
    }
}

// MARK: - Layouts

/// A float32 tensor's logical dimensions (oneDNN order: N, C, H, W for activations; O, I, H, W for
/// weights) and its memory layout: a plain format, or the one a primitive picked.
struct TensorLayout: CustomStringConvertible {
    /// The formats the trainer names itself; oneDNN's blocked choices come back from primitives.
    enum Format {
        /// Let the primitive choose (only for primitive descriptors, never for memory).
        case any
        case nchw, nhwc
        /// Batch × features.
        case nc
        /// One dimension (biases).
        case x
        /// Keras's convolution kernel layout (kh, kw, in, out).
        case hwio
        /// A dense kernel as (units, features): the transpose of Keras's (in, out).
        case oi
        /// A dense kernel after a flatten as (units, h, w, c): the transpose of Keras's
        /// (h·w·c, units) matrix, whose rows are in (h, w, c) order.
        case ohwi

        fileprivate var tag: dnnl_format_tag_t {
            switch self {
            case .any: dnnl_format_tag_any
            case .nchw: dnnl_nchw
            case .nhwc: dnnl_nhwc
            case .nc: dnnl_nc
            case .x: dnnl_x
            case .hwio: dnnl_hwio
            case .oi: dnnl_oi
            case .ohwi: dnnl_ohwi
            }
        }
    }

    fileprivate var desc: dnnl_memory_desc_t

    /// - Throws: ``TrainerError`` `library` when oneDNN rejects the dims for the format.
    init(_ dims: [Int], _ format: Format) throws {
        var desc = dnnl_memory_desc_t()
        let dims64 = dims.map(Int64.init)
        try check(
            dnnl_memory_desc_init_by_tag(&desc, Int32(dims.count), dims64, dnnl_f32, format.tag),
            "memory descriptor \(dims) \(format)")
        self.desc = desc
    }

    fileprivate init(_ desc: dnnl_memory_desc_t) { self.desc = desc }

    /// Logical dimensions.
    var dims: [Int] {
        withUnsafeBytes(of: desc.dims) { Array($0.bindMemory(to: Int64.self).prefix(Int(desc.ndims)).map(Int.init)) }
    }

    /// True for the zero descriptor a primitive reports for a tensor it does not use.
    var isEmpty: Bool { desc.ndims == 0 }

    /// Bytes a tensor in this layout occupies, block padding included.
    var byteCount: Int {
        var copy = desc
        return dnnl_memory_desc_get_size(&copy)
    }

    /// Whether `other` is the same tensor in the same layout (no reorder needed between them).
    func matches(_ other: TensorLayout) -> Bool {
        var a = desc, b = other.desc
        return dnnl_memory_desc_equal(&a, &b) != 0
    }

    /// oneDNN's notation: dimensions as letters (a = first) from outermost to innermost, upper case
    /// when blocked, then the inner blocks: `acdb` is NHWC, `aBcd16b` is nChw16c.
    var description: String {
        guard desc.format_kind == dnnl_blocked else { return "any" }
        let rank = Int(desc.ndims)
        let blocking = desc.format_desc.blocking
        let strides = withUnsafeBytes(of: blocking.strides) { Array($0.bindMemory(to: Int64.self).prefix(rank)) }
        let blocks = Int(blocking.inner_nblks)
        let sizes = withUnsafeBytes(of: blocking.inner_blks) { Array($0.bindMemory(to: Int64.self).prefix(blocks)) }
        let indices = withUnsafeBytes(of: blocking.inner_idxs) { Array($0.bindMemory(to: Int64.self).prefix(blocks)) }
        let letters = Array("abcdefghijkl")
        let order = (0..<rank).sorted { strides[$0] != strides[$1] ? strides[$0] > strides[$1] : $0 < $1 }
        var text = order.map { indices.contains(Int64($0)) ? letters[$0].uppercased() : String(letters[$0]) }.joined()
        for (size, index) in zip(sizes, indices) { text += "\(size)\(letters[Int(index)])" }
        return text
    }
}

// MARK: - Memory

/// A oneDNN memory object: a layout over a buffer, either its own (allocated once, zero-filled,
/// 64-byte aligned, freed with the tensor) or memory the caller owns and keeps alive.
final class Tensor {
    let layout: TensorLayout
    fileprivate let memory: dnnl_memory_t
    private let owned: UnsafeMutableRawPointer?
    /// Keeps the engine alive as long as memory created on it.
    private let engine: Engine
    /// The buffer the tensor currently reads and writes (nil until an external tensor is bound).
    private(set) var data: UnsafeMutableRawPointer?

    /// A tensor with a buffer of its own.
    init(_ layout: TensorLayout, engine: Engine) throws {
        let bytes = max(layout.byteCount, 64)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        var desc = layout.desc
        var memory: dnnl_memory_t?
        let status = dnnl_memory_create(&memory, &desc, engine.engine, buffer)
        guard status == dnnl_success, let memory else {
            buffer.deallocate()
            try check(status, "memory creation \(layout.dims)")
            throw TrainerError(.library, "oneDNN memory creation returned no memory")
        }
        self.layout = layout
        self.memory = memory
        self.engine = engine
        owned = buffer
        data = buffer
    }

    /// A tensor over `pointer`, memory the caller owns and keeps alive; nil until ``bind(_:)``.
    init(_ layout: TensorLayout, engine: Engine, over pointer: UnsafeMutableRawPointer?) throws {
        var desc = layout.desc
        var memory: dnnl_memory_t?
        try check(dnnl_memory_create(&memory, &desc, engine.engine, pointer), "memory creation \(layout.dims)")
        guard let memory else { throw TrainerError(.library, "oneDNN memory creation returned no memory") }
        self.layout = layout
        self.memory = memory
        self.engine = engine
        owned = nil
        data = pointer
    }

    deinit {
        dnnl_memory_destroy(memory)
        owned?.deallocate()
    }

    /// Points the tensor at `pointer` (a tensor made with `over:`); primitives see it from their
    /// next execution on.
    func bind(_ pointer: UnsafeMutableRawPointer) throws {
        guard pointer != data else { return }
        try check(dnnl_memory_set_data_handle(memory, pointer), "memory rebinding")
        data = pointer
    }

    /// The buffer as Float32 values: `layout.byteCount / 4` of them, block padding included.
    var floats: UnsafeMutablePointer<Float> { data!.assumingMemoryBound(to: Float.self) }

    /// Float32 values in the buffer, block padding included.
    var elementCount: Int { layout.byteCount / MemoryLayout<Float>.stride }
}

// MARK: - Primitives

/// What a tensor is to a primitive (oneDNN's `DNNL_ARG_*`).
enum Argument {
    case src, weights, bias, dst, workspace
    case diffSrc, diffWeights, diffBias, diffDst
    case from, to

    fileprivate var raw: Int32 {
        switch self {
        case .src: DNNL_ARG_SRC
        case .weights: DNNL_ARG_WEIGHTS
        case .bias: DNNL_ARG_BIAS
        case .dst: DNNL_ARG_DST
        case .workspace: DNNL_ARG_WORKSPACE
        case .diffSrc: DNNL_ARG_DIFF_SRC
        case .diffWeights: DNNL_ARG_DIFF_WEIGHTS
        case .diffBias: DNNL_ARG_DIFF_BIAS
        case .diffDst: DNNL_ARG_DIFF_DST
        case .from: DNNL_ARG_FROM
        case .to: DNNL_ARG_TO
        }
    }
}

/// A primitive descriptor: the operation, the implementation oneDNN chose for it and the layouts
/// that implementation wants.
final class PrimitiveDescriptor {
    /// The tensors whose layouts can be asked for.
    enum Query {
        case src, weights, dst, workspace, diffSrc, diffWeights, diffDst

        fileprivate var raw: dnnl_query_t {
            switch self {
            case .src: dnnl_query_src_md
            case .weights: dnnl_query_weights_md
            case .dst: dnnl_query_dst_md
            case .workspace: dnnl_query_workspace_md
            case .diffSrc: dnnl_query_diff_src_md
            case .diffWeights: dnnl_query_diff_weights_md
            case .diffDst: dnnl_query_diff_dst_md
            }
        }
    }

    fileprivate let raw: dnnl_primitive_desc_t
    /// Keeps the engine alive as long as descriptors (and primitives) created on it.
    fileprivate let engine: Engine

    /// Creates the descriptor of `operation` (a pointer to a `dnnl_*_desc_t`), with `activation`
    /// fused as an eltwise post-op when it is relu or sigmoid.
    fileprivate init(
        _ operation: UnsafeRawPointer, engine: Engine, hint: PrimitiveDescriptor? = nil,
        fusing activation: Activation = .linear, what: @autoclosure () -> String
    ) throws {
        var attributes: dnnl_primitive_attr_t?
        defer { dnnl_primitive_attr_destroy(attributes) }
        if let algorithm = activation.forwardAlgorithm {
            var postOps: dnnl_post_ops_t?
            defer { dnnl_post_ops_destroy(postOps) }
            try check(dnnl_post_ops_create(&postOps), "post-op creation")
            try check(dnnl_post_ops_append_eltwise(postOps, 1, algorithm, 0, 0), "fusing \(activation)")
            try check(dnnl_primitive_attr_create(&attributes), "attribute creation")
            try check(dnnl_primitive_attr_set_post_ops(attributes, postOps), "setting post-ops")
        }
        var descriptor: dnnl_primitive_desc_t?
        try check(dnnl_primitive_desc_create(&descriptor, operation, attributes, engine.engine, hint?.raw), what())
        guard let descriptor else { throw TrainerError(.library, "oneDNN \(what()) returned no descriptor") }
        raw = descriptor
        self.engine = engine
    }

    /// A reorder between two layouts of the same tensor.
    fileprivate init(reorderFrom source: TensorLayout, to destination: TensorLayout, engine: Engine) throws {
        var from = source.desc, to = destination.desc
        var descriptor: dnnl_primitive_desc_t?
        try check(
            dnnl_reorder_primitive_desc_create(&descriptor, &from, engine.engine, &to, engine.engine, nil),
            "reorder \(source) → \(destination)")
        guard let descriptor else { throw TrainerError(.library, "oneDNN reorder returned no descriptor") }
        raw = descriptor
        self.engine = engine
    }

    deinit { dnnl_primitive_desc_destroy(raw) }

    /// The layout the implementation wants for `query` (empty when the primitive has no such tensor).
    func layout(_ query: Query) -> TensorLayout {
        TensorLayout(dnnl_primitive_desc_query_md(raw, query.raw, 0).pointee)
    }

    /// oneDNN's name for the implementation it chose, e.g. `jit:avx512_core` or `x64:gemm:jit`.
    var implementation: String {
        var text: UnsafePointer<CChar>?
        guard dnnl_primitive_desc_query(raw, dnnl_query_impl_info_str, 0, &text) == dnnl_success, let text else {
            return "unknown"
        }
        return String(cString: text)
    }
}

/// A primitive bound to its tensors once, executed many times.
final class Primitive {
    /// What it does, for profiles: "conv2d forward", "dense_1 backward weights".
    let label: String
    /// The oneDNN implementation it runs.
    let implementation: String
    private let raw: dnnl_primitive_t
    /// Keeps the engine alive as long as the primitive.
    private let engine: Engine
    private let arguments: UnsafeMutableBufferPointer<dnnl_exec_arg_t>
    /// The tensors in `arguments`, kept alive as long as the primitive.
    private let tensors: [Tensor]

    init(_ descriptor: PrimitiveDescriptor, _ bindings: [(Argument, Tensor)], label: String) throws {
        var primitive: dnnl_primitive_t?
        try check(dnnl_primitive_create(&primitive, descriptor.raw), "\(label) primitive creation")
        guard let primitive else { throw TrainerError(.library, "oneDNN \(label) returned no primitive") }
        raw = primitive
        engine = descriptor.engine
        self.label = label
        implementation = descriptor.implementation
        tensors = bindings.map(\.1)
        arguments = .allocate(capacity: bindings.count)
        for (index, (argument, tensor)) in bindings.enumerated() {
            arguments[index] = dnnl_exec_arg_t(arg: argument.raw, memory: tensor.memory)
        }
    }

    /// A reorder of `source` into `destination` (same dims, different layouts).
    convenience init(reorder source: Tensor, into destination: Tensor, engine: Engine, label: String) throws {
        let descriptor = try PrimitiveDescriptor(reorderFrom: source.layout, to: destination.layout, engine: engine)
        try self.init(descriptor, [(.from, source), (.to, destination)], label: label)
    }

    deinit {
        dnnl_primitive_destroy(raw)
        arguments.deallocate()
    }

    /// Submits the primitive to its engine's stream (on the CPU it has run when this returns).
    func execute() throws {
        try check(dnnl_primitive_execute(raw, engine.stream, Int32(arguments.count), arguments.baseAddress), label)
    }
}

// MARK: - Operations

/// Geometry shared by convolutions and poolings: per spatial dimension (height, width).
struct Window {
    var size: [Int]
    var strides: [Int]
    var paddingLow: [Int]
    var paddingHigh: [Int]
}

/// How a convolution is computed.
enum ConvolutionAlgorithm {
    /// Direct convolution.
    case direct
    /// oneDNN's choice, which is Winograd F(4×4, 3×3) wherever it has a kernel for it (3×3,
    /// stride 1, AVX-512) and direct otherwise.
    case winogradWherePossible

    fileprivate var raw: dnnl_alg_kind_t {
        switch self {
        case .direct: dnnl_convolution_direct
        case .winogradWherePossible: dnnl_convolution_auto
        }
    }
}

extension Activation {
    /// The eltwise algorithm fused into a forward primitive; nil when there is nothing to fuse.
    fileprivate var forwardAlgorithm: dnnl_alg_kind_t? {
        switch self {
        case .relu: dnnl_eltwise_relu
        case .sigmoid: dnnl_eltwise_logistic
        case .softmax, .linear: nil
        }
    }

    /// The eltwise algorithm whose backward pass needs only the activation's output.
    fileprivate var backwardAlgorithm: dnnl_alg_kind_t? {
        switch self {
        case .relu: dnnl_eltwise_relu_use_dst_for_bwd
        case .sigmoid: dnnl_eltwise_logistic_use_dst_for_bwd
        case .softmax, .linear: nil
        }
    }
}

/// Builders for the primitive descriptors the layers use. `training` selects forward-training
/// (keeps what backward needs, such as the max-pool workspace) over forward-inference.
enum Operations {
    private static func propagation(_ training: Bool) -> dnnl_prop_kind_t {
        training ? dnnl_forward_training : dnnl_forward_inference
    }

    /// Convolution forward with bias and `activation` (relu or sigmoid) fused as a post-op.
    static func convolutionForward(
        engine: Engine, training: Bool, algorithm: ConvolutionAlgorithm, src: TensorLayout,
        weights: TensorLayout, bias: TensorLayout, dst: TensorLayout, window: Window,
        activation: Activation
    ) throws -> PrimitiveDescriptor {
        var operation = dnnl_convolution_desc_t()
        var s = src.desc, w = weights.desc, b = bias.desc, d = dst.desc
        try check(
            dnnl_convolution_forward_desc_init(
                &operation, propagation(training), algorithm.raw, &s, &w, &b, &d,
                window.strides.map(Int64.init), window.paddingLow.map(Int64.init),
                window.paddingHigh.map(Int64.init)), "convolution forward descriptor")
        return try PrimitiveDescriptor(&operation, engine: engine, fusing: activation, what: "convolution forward")
    }

    /// Gradient of a convolution's input from its output gradient.
    static func convolutionBackwardData(
        engine: Engine, algorithm: ConvolutionAlgorithm, diffSrc: TensorLayout,
        weights: TensorLayout, diffDst: TensorLayout, window: Window,
        hint: PrimitiveDescriptor
    ) throws -> PrimitiveDescriptor {
        var operation = dnnl_convolution_desc_t()
        var s = diffSrc.desc, w = weights.desc, d = diffDst.desc
        try check(
            dnnl_convolution_backward_data_desc_init(
                &operation, algorithm.raw, &s, &w, &d,
                window.strides.map(Int64.init), window.paddingLow.map(Int64.init),
                window.paddingHigh.map(Int64.init)), "convolution backward-data descriptor")
        return try PrimitiveDescriptor(&operation, engine: engine, hint: hint, what: "convolution backward data")
    }

    /// Gradients of a convolution's weights and bias.
    static func convolutionBackwardWeights(
        engine: Engine, algorithm: ConvolutionAlgorithm, src: TensorLayout,
        diffWeights: TensorLayout, diffBias: TensorLayout, diffDst: TensorLayout, window: Window,
        hint: PrimitiveDescriptor
    ) throws -> PrimitiveDescriptor {
        var operation = dnnl_convolution_desc_t()
        var s = src.desc, w = diffWeights.desc, b = diffBias.desc, d = diffDst.desc
        try check(
            dnnl_convolution_backward_weights_desc_init(
                &operation, algorithm.raw, &s, &w, &b, &d,
                window.strides.map(Int64.init), window.paddingLow.map(Int64.init),
                window.paddingHigh.map(Int64.init)),
            "convolution backward-weights descriptor")
        return try PrimitiveDescriptor(&operation, engine: engine, hint: hint, what: "convolution backward weights")
    }

    /// Max pooling forward; padding is never chosen as a maximum.
    static func maxPoolingForward(
        engine: Engine, training: Bool, src: TensorLayout, dst: TensorLayout,
        window: Window
    ) throws -> PrimitiveDescriptor {
        var operation = dnnl_pooling_desc_t()
        var s = src.desc, d = dst.desc
        try check(
            dnnl_pooling_forward_desc_init(
                &operation, propagation(training), dnnl_pooling_max, &s, &d,
                window.strides.map(Int64.init), window.size.map(Int64.init),
                window.paddingLow.map(Int64.init), window.paddingHigh.map(Int64.init)),
            "max-pooling forward descriptor")
        return try PrimitiveDescriptor(&operation, engine: engine, what: "max-pooling forward")
    }

    /// Max pooling backward: routes each output gradient to the input its maximum came from.
    static func maxPoolingBackward(
        engine: Engine, diffSrc: TensorLayout, diffDst: TensorLayout, window: Window,
        hint: PrimitiveDescriptor
    ) throws -> PrimitiveDescriptor {
        var operation = dnnl_pooling_desc_t()
        var s = diffSrc.desc, d = diffDst.desc
        try check(
            dnnl_pooling_backward_desc_init(
                &operation, dnnl_pooling_max, &s, &d,
                window.strides.map(Int64.init), window.size.map(Int64.init),
                window.paddingLow.map(Int64.init), window.paddingHigh.map(Int64.init)),
            "max-pooling backward descriptor")
        return try PrimitiveDescriptor(&operation, engine: engine, hint: hint, what: "max-pooling backward")
    }

    /// Inner product forward (a dense layer) with bias and `activation` fused as a post-op.
    static func innerProductForward(
        engine: Engine, training: Bool, src: TensorLayout, weights: TensorLayout,
        bias: TensorLayout, dst: TensorLayout,
        activation: Activation
    ) throws -> PrimitiveDescriptor {
        var operation = dnnl_inner_product_desc_t()
        var s = src.desc, w = weights.desc, b = bias.desc, d = dst.desc
        try check(
            dnnl_inner_product_forward_desc_init(&operation, propagation(training), &s, &w, &b, &d),
            "inner-product forward descriptor")
        return try PrimitiveDescriptor(&operation, engine: engine, fusing: activation, what: "inner-product forward")
    }

    /// Gradient of an inner product's input.
    static func innerProductBackwardData(
        engine: Engine, diffSrc: TensorLayout, weights: TensorLayout, diffDst: TensorLayout,
        hint: PrimitiveDescriptor
    ) throws -> PrimitiveDescriptor {
        var operation = dnnl_inner_product_desc_t()
        var s = diffSrc.desc, w = weights.desc, d = diffDst.desc
        try check(dnnl_inner_product_backward_data_desc_init(&operation, &s, &w, &d), "inner-product backward-data descriptor")
        return try PrimitiveDescriptor(&operation, engine: engine, hint: hint, what: "inner-product backward data")
    }

    /// Gradients of an inner product's weights and bias.
    static func innerProductBackwardWeights(
        engine: Engine, src: TensorLayout, diffWeights: TensorLayout,
        diffBias: TensorLayout, diffDst: TensorLayout,
        hint: PrimitiveDescriptor
    ) throws -> PrimitiveDescriptor {
        var operation = dnnl_inner_product_desc_t()
        var s = src.desc, w = diffWeights.desc, b = diffBias.desc, d = diffDst.desc
        try check(
            dnnl_inner_product_backward_weights_desc_init(&operation, &s, &w, &b, &d),
            "inner-product backward-weights descriptor")
        return try PrimitiveDescriptor(&operation, engine: engine, hint: hint, what: "inner-product backward weights")
    }

    /// Softmax over the channel axis (axis 1), forward; may run in place.
    static func softmaxForward(engine: Engine, training: Bool, data: TensorLayout) throws -> PrimitiveDescriptor {
        var operation = dnnl_softmax_desc_t()
        var d = data.desc
        try check(dnnl_softmax_forward_desc_init(&operation, propagation(training), &d, 1), "softmax forward descriptor")
        return try PrimitiveDescriptor(&operation, engine: engine, what: "softmax forward")
    }

    /// The backward pass of `activation` computed from its output, in place on the gradient: eltwise
    /// (relu, sigmoid) or softmax backward. Nil for linear.
    static func activationBackward(
        engine: Engine, activation: Activation,
        data: TensorLayout
    ) throws -> PrimitiveDescriptor? {
        var d = data.desc
        if let algorithm = activation.backwardAlgorithm {
            var forward = dnnl_eltwise_desc_t(), backward = dnnl_eltwise_desc_t()
            try check(
                dnnl_eltwise_forward_desc_init(&forward, dnnl_forward_training, algorithm, &d, 0, 0),
                "\(activation) forward descriptor")
            let hint = try PrimitiveDescriptor(&forward, engine: engine, what: "\(activation) forward")
            try check(dnnl_eltwise_backward_desc_init(&backward, algorithm, &d, &d, 0, 0), "\(activation) backward descriptor")
            return try PrimitiveDescriptor(&backward, engine: engine, hint: hint, what: "\(activation) backward")
        }
        guard activation == .softmax else { return nil }
        let hint = try softmaxForward(engine: engine, training: true, data: data)
        var backward = dnnl_softmax_desc_t()
        try check(dnnl_softmax_backward_desc_init(&backward, &d, &d, 1), "softmax backward descriptor")
        return try PrimitiveDescriptor(&backward, engine: engine, hint: hint, what: "softmax backward")
    }
}
