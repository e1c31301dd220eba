// Adam, RMSprop and SGD exactly as Keras 3 writes their update steps, over the whole parameter
// arena in one fused pass per step (the arena is ~10 M values for the tutorial model, so the pass is
// memory-bound: one read of each array, one write of each changed one).
import Foundation

// MARK: - Settings

/// An optimizer and its hyper-parameters, with Keras's defaults.
public enum Optimizer: Hashable, Sendable, CustomStringConvertible {
    /// m ← m + (g − m)(1 − β₁); v ← v + (g² − v)(1 − β₂);
    /// w ← w − α·m / (√v + ε) with α = lr·√(1 − β₂ᵗ) / (1 − β₁ᵗ) at step t (1-based).
    case adam(learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-7)
    /// v ← ρv + (1 − ρ)g²; Δ = lr·g / √(v + ε); with momentum μ > 0: m ← μm + Δ, w ← w − m;
    /// otherwise w ← w − Δ.
    case rmsprop(learningRate: Float = 0.001, rho: Float = 0.9, momentum: Float = 0, epsilon: Float = 1e-7)
    /// With momentum μ ≠ 0: m ← μm − lr·g, then w ← w + m (Nesterov: w ← w + μm − lr·g);
    /// otherwise w ← w − lr·g.
    case sgd(learningRate: Float = 0.01, momentum: Float = 0, nesterov: Bool = false)

    /// An optimizer by Keras's name (`adam`, `rmsprop`, `sgd`, any case) with its default settings.
    /// - Throws: ``TrainerError`` `invalidArgument` for another name.
    public init(named name: String) throws {
        switch name.lowercased() {
        case "adam": self = .adam()
        case "rmsprop": self = .rmsprop()
        case "sgd": self = .sgd()
        default: throw TrainerError(.invalidArgument, "unknown optimizer '\(name)'; expected adam, rmsprop or sgd")
        }
    }

    /// Keras's name: `adam`, `rmsprop` or `sgd`.
    public var name: String {
        switch self {
        case .adam: "adam"
        case .rmsprop: "rmsprop"
        case .sgd: "sgd"
        }
    }

    /// The initial learning rate.
    public var learningRate: Float {
        switch self {
        case let .adam(learningRate, _, _, _), let .rmsprop(learningRate, _, _, _), let .sgd(learningRate, _, _): learningRate
        }
    }

    /// The same optimizer with another initial learning rate.
    public func with(learningRate rate: Float) -> Optimizer {
        switch self {
        case let .adam(_, beta1, beta2, epsilon): .adam(learningRate: rate, beta1: beta1, beta2: beta2, epsilon: epsilon)
        case let .rmsprop(_, rho, momentum, epsilon): .rmsprop(learningRate: rate, rho: rho, momentum: momentum, epsilon: epsilon)
        case let .sgd(_, momentum, nesterov): .sgd(learningRate: rate, momentum: momentum, nesterov: nesterov)
        }
    }

    /// `adam(learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-07)`.
    public var description: String {
        switch self {
        case let .adam(learningRate, beta1, beta2, epsilon):
            "adam(learningRate: \(learningRate), beta1: \(beta1), beta2: \(beta2), epsilon: \(epsilon))"
        case let .rmsprop(learningRate, rho, momentum, epsilon):
            "rmsprop(learningRate: \(learningRate), rho: \(rho), momentum: \(momentum), epsilon: \(epsilon))"
        case let .sgd(learningRate, momentum, nesterov):
            "sgd(learningRate: \(learningRate), momentum: \(momentum), nesterov: \(nesterov))"
        }
    }

    /// The per-parameter state arrays, by Keras's names.
    var slotNames: [String] {
        switch self {
        case .adam: ["momentum", "velocity"]
        case let .rmsprop(_, _, momentum, _): momentum > 0 ? ["velocity", "momentum"] : ["velocity"]
        case let .sgd(_, momentum, _): momentum != 0 ? ["momentum"] : []
        }
    }
}

// MARK: - State and updates

/// An optimizer's state arrays, each the size of the parameter arena, allocated once.
final class OptimizerState {
    let optimizer: Optimizer
    let slots: [(name: String, buffer: FloatBuffer)]

    init(_ optimizer: Optimizer, capacity: Int) {
        self.optimizer = optimizer
        slots = optimizer.slotNames.map { ($0, FloatBuffer(count: capacity)) }
    }

    /// Applies update number `step` (1-based) with `learningRate` to every value of `store` from
    /// its gradients.
    func apply(to store: ParameterStore, step: Int, learningRate: Float) {
        let w = store.values.pointer, g = UnsafePointer(store.gradients.pointer)
        let first = slots.first?.buffer.pointer, second = slots.dropFirst().first?.buffer.pointer
        switch optimizer {
        case let .adam(_, beta1, beta2, epsilon):
            let t = Float(step)
            let alpha = learningRate * (1 - pow(beta2, t)).squareRoot() / (1 - pow(beta1, t))
            let m = first!, v = second!
            parallelChunks(store.values.count) { range in
                for i in range {
                    let gradient = g[i]
                    let momentum = m[i] + (gradient - m[i]) * (1 - beta1)
                    let velocity = v[i] + (gradient * gradient - v[i]) * (1 - beta2)
                    m[i] = momentum
                    v[i] = velocity
                    w[i] -= momentum * alpha / (velocity.squareRoot() + epsilon)
                }
            }
        case let .rmsprop(_, rho, momentum, epsilon):
            let v = first!, m = second
            parallelChunks(store.values.count) { range in
                for i in range {
                    let gradient = g[i]
                    let velocity = rho * v[i] + (1 - rho) * gradient * gradient
                    v[i] = velocity
                    let increment = learningRate * gradient / (velocity + epsilon).squareRoot()
                    if let m {
                        m[i] = momentum * m[i] + increment
                        w[i] -= m[i]
                    } else {
                        w[i] -= increment
                    }
                }
            }
        case let .sgd(_, momentum, nesterov):
            let m = first
            parallelChunks(store.values.count) { range in
                for i in range {
                    let gradient = g[i]
                    if let m {
                        m[i] = m[i] * momentum - gradient * learningRate
                        w[i] += nesterov ? m[i] * momentum - gradient * learningRate : m[i]
                    } else {
                        w[i] -= gradient * learningRate
                    }
                }
            }
        }
        store.valuesChanged()
    }
}
