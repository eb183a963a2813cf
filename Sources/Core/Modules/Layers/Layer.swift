/// A module with one tensor input and one tensor output: the unit `Sequential` chains.
///
/// Subclasses override `forward(_:)`; calling the layer (`layer(x)`) runs it. Whatever the layer holds
/// (parameters, buffers, children) is found by `Module`'s reflection.
open class Layer: Module {
    public override init() { super.init() }

    /// Maps the input to the output. Shapes are documented by each subclass.
    open func forward(_ input: Tensor) -> Tensor {
        preconditionFailure("\(type(of: self)) must override forward(_:)")
    }

    /// Runs `forward(_:)`.
    public func callAsFunction(_ input: Tensor) -> Tensor { forward(input) }
}

/// Layers applied one after another, keyed `0`, `1`, ... in the state dict like PyTorch's `nn.Sequential`.
public final class Sequential: Layer {
    /// The layers, in application order.
    public private(set) var layers: [Layer]

    public init(_ layers: [Layer]) {
        self.layers = layers
        super.init()
    }

    public override var indexKeyedChildLists: Set<String> { ["layers"] }

    public override func forward(_ input: Tensor) -> Tensor {
        layers.reduce(input) { x, layer in layer(x) }
    }

    public override func makeCopy() -> Module { Sequential(layers.map { $0.makeCopy() as! Layer }) }
}

extension Module {
    /// This module and every descendant, depth first (parents before children).
    public func allModules() -> [Module] {
        var result: [Module] = [self]
        for (_, child) in namedChildren { result += child.allModules() }
        return result
    }
}
