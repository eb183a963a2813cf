import Core

/// Why a backbone could not be built.
public enum BackboneError: Error, CustomStringConvertible, Equatable {
    case unknownName(String, available: [String])

    public var description: String {
        switch self {
        case let .unknownName(name, available):
            return "unknown backbone '\(name)'; available: \(available.joined(separator: ", "))"
        }
    }
}

/// Builds backbones by the names the CLI uses.
public enum BackboneFactory {
    /// Every name `make(name:seed:)` accepts.
    public static var names: [String] { builders.map(\.name) }

    private static let builders: [(name: String, summary: String, build: (UInt64) -> Backbone)] = [
        ("resnet18", "torchvision ResNet18, 1 input channel, fc 512 -> 256", { ResNet18(featureCount: 256, seed: $0) }),
        ("c8resnet", "C8-equivariant ResNet18, channel-matched (8-16-32-64 regular fields)",
         { EquivariantResNet(group: .cyclic(8), width: .channelMatched, name: "c8resnet", seed: $0) }),
        ("c8resnet-pm", "C8-equivariant ResNet18, parameter-matched (23-45-91-181 regular fields)",
         { EquivariantResNet(group: .cyclic(8), width: .parameterMatched, name: "c8resnet-pm", seed: $0) }),
        ("c4resnet", "C4-equivariant ResNet18, channel-matched (16-32-64-128 regular fields)",
         { EquivariantResNet(group: .cyclic(4), width: .channelMatched, name: "c4resnet", seed: $0) }),
        ("d8resnet", "D8-equivariant ResNet18 (rotations and reflections), channel-matched (4-8-16-32 regular fields)",
         { EquivariantResNet(group: .dihedral(8), width: .channelMatched, name: "d8resnet", seed: $0) }),
    ]

    /// A freshly initialised backbone; the same name and seed give the same weights.
    public static func make(name: String, seed: UInt64 = 0) throws -> Backbone {
        guard let entry = builders.first(where: { $0.name == name.lowercased() }) else {
            throw BackboneError.unknownName(name, available: names)
        }
        return entry.build(seed)
    }

    /// One-line description of a named backbone.
    public static func summary(of name: String) -> String? { builders.first { $0.name == name }?.summary }
}
