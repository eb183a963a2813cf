import Foundation

/// The base of every layer and network.
///
/// State is discovered by reflection over stored properties, so a layer only declares what it holds:
/// - a `Tensor` (or non-nil `Tensor?`) property is a parameter, unless its name is in `bufferNames`;
/// - a `Module` property is a child; a `[Module]` property holds children keyed `0`, `1`, ...;
/// - properties whose name starts with `_` are private (caches, workspaces) and never part of the state.
///
/// Keys are dotted paths of snake_case property names (`layer1.0.conv1.weight`, `bn1.running_mean`), which is
/// how torchvision names its state, so weights exchange with PyTorch unchanged.
/// Training mode lives on each module (`train()`/`eval()` recurse); there is no global mode flag.
open class Module {
    /// Whether the module is in training mode (batch statistics, dropout active).
    public private(set) var isTraining = true

    public init() {}

    /// Names of tensor properties that are buffers (saved in the state dict, never trained).
    open var bufferNames: Set<String> { [] }

    /// Names of buffers that hold integer counts (e.g. `numBatchesTracked`). They live in float tensors (exact up
    /// to 2^24) but `stateDict()` marks them in `StateDict.integerKeys`, so safetensors stores them as I64 like PyTorch.
    open var integerBufferNames: Set<String> { [] }

    /// Names of `[Module]` properties whose children are keyed by index alone (`0`, `1`, ...) rather than
    /// `name.0`, as PyTorch's `nn.Sequential` does.
    open var indexKeyedChildLists: Set<String> { [] }

    /// A structurally identical fresh instance; `deepCopy()` then copies the state into it.
    /// Every concrete module overrides this (usually by calling its own initializer with its configuration).
    open func makeCopy() -> Module {
        preconditionFailure("\(type(of: self)) must override makeCopy() to support deepCopy()")
    }

    /// An independent copy with the same structure, values, training mode and frozen parameters.
    public func deepCopy() -> Self {
        guard let copy = makeCopy() as? Self else {
            preconditionFailure("\(type(of: self)).makeCopy() returned a different type")
        }
        let mine = namedTensors(), theirs = copy.namedTensors()
        precondition(mine.map(\.key) == theirs.map(\.key), "\(type(of: self)).makeCopy() changed the structure")
        for (a, b) in zip(mine, theirs) {
            precondition(a.tensor.shape == b.tensor.shape, "\(type(of: self)).makeCopy(): shape of \(a.key) differs")
            b.tensor.assign(a.tensor.scalars)
            b.tensor.requiresGrad = a.tensor.requiresGrad
        }
        copy.setTraining(isTraining)
        return copy
    }

    /// Direct children with their keys, in declaration order.
    public var namedChildren: [(key: String, module: Module)] {
        var result: [(String, Module)] = []
        forEachProperty { label, value in
            if let m = value as? Module {
                result.append((label, m))
            } else if let list = value as? [Module] {
                let byIndex = label.isEmpty || indexKeyedChildLists.contains(label)
                for (i, m) in list.enumerated() { result.append((byIndex ? "\(i)" : "\(label).\(i)", m)) }
            }
        }
        return result
    }

    /// This module's own tensors (not its children's), with their keys and whether they are buffers.
    public var ownTensors: [(key: String, tensor: Tensor, isBuffer: Bool)] {
        var result: [(String, Tensor, Bool)] = []
        let buffers = bufferNames
        forEachProperty { label, value in
            let tensor: Tensor?
            if let t = value as? Tensor { tensor = t } else if let t = value as? Tensor? { tensor = t } else { tensor = nil }
            if let tensor { result.append((Module.snakeCase(label), tensor, buffers.contains(label))) }
        }
        return result
    }

    /// Every parameter and buffer with its dotted key, depth first in declaration order.
    public func namedTensors(prefix: String = "") -> [(key: String, tensor: Tensor, isBuffer: Bool)] {
        var result = ownTensors.map { (prefix + $0.key, $0.tensor, $0.isBuffer) }
        for (key, child) in namedChildren {
            result += child.namedTensors(prefix: prefix + Module.snakeCase(key) + ".")
        }
        return result
    }

    /// Trainable parameters (not buffers) with dotted keys, including frozen ones.
    public func namedParameters() -> [(key: String, tensor: Tensor)] {
        namedTensors().filter { !$0.isBuffer }.map { ($0.key, $0.tensor) }
    }

    /// Parameters that currently receive gradients (frozen ones excluded): what an optimizer should update.
    public func trainableParameters() -> [Tensor] {
        namedParameters().map(\.tensor).filter(\.requiresGrad)
    }

    /// Number of scalar parameters (buffers excluded).
    public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.tensor.count } }

    /// Switches this module and all descendants to training mode.
    public func train() { setTraining(true) }
    /// Switches this module and all descendants to evaluation mode.
    public func eval() { setTraining(false) }

    /// Sets the mode recursively; override `didChangeMode()` to react (e.g. invalidate caches).
    public func setTraining(_ training: Bool) {
        isTraining = training
        didChangeMode()
        for (_, child) in namedChildren { child.setTraining(training) }
    }

    /// Called after the training mode changes.
    open func didChangeMode() {}

    /// Called after `load(stateDict:)` replaced values. Caches should rather compare `Tensor.version`.
    open func didLoadState() {}

    /// Stops (or restarts) gradient flow into every parameter of this module and its descendants.
    public func freeze(_ frozen: Bool = true) {
        for (_, t) in namedParameters() { t.requiresGrad = !frozen }
    }

    /// Clears the gradients of all parameters.
    public func zeroGrad() {
        for (_, t) in namedParameters() { t.grad = nil }
    }

    private func forEachProperty(_ body: (String, Any) -> Void) {
        var mirror: Mirror? = Mirror(reflecting: self)
        var levels: [Mirror] = []
        while let m = mirror, m.subjectType != Module.self {
            levels.append(m)
            mirror = m.superclassMirror
        }
        for level in levels.reversed() {
            for child in level.children {
                guard let label = child.label, !label.hasPrefix("_"), !label.hasPrefix("$") else { continue }
                body(label, child.value)
            }
        }
    }

    /// `runningMean` -> `running_mean`; names already in snake_case or with digits stay as they are.
    static func snakeCase(_ name: String) -> String {
        var out = ""
        for ch in name {
            if ch.isUppercase {
                if !out.isEmpty { out.append("_") }
                out.append(contentsOf: ch.lowercased())
            } else {
                out.append(ch)
            }
        }
        return out
    }
}
