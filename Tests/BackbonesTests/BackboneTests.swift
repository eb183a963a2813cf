import Backbones
import Core
import Testing

@Suite struct BackboneTests {
    /// Each backbone states whether it needs square images: the equivariant ones do, ResNet18 does not.
    @Test(arguments: BackboneFactory.names)
    func squareInputRequirement(_ name: String) throws {
        let model = try BackboneFactory.make(name: name)
        #expect(model.requiresSquareInput == (model is EquivariantResNet), "\(name)")
    }
}
