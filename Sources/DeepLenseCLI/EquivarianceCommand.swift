import ArgumentParser
import Backbones
import Core
import Equivariant
import Foundation
import Lensing

/// `deeplense equivariance`: builds one freshly initialised equivariant layer from a seed, feeds it a smooth
/// random input (Gaussian-smoothed noise, tapered to the central disk) and prints one JSON object with the
/// relative equivariance errors: `rot90_rel_error` (exact quarter turn), `rot45_rel_error` (band-limited
/// 45-degree rotation, compared inside the central disk of radius 0.5 R; groups whose N is a multiple of 8),
/// and `reflection_rel_error` for dihedral groups. Unavailable measures are `null`. `--layer network` checks the
/// invariance of the pooled features of the equivariant ResNet backbone (`featureInvarianceError`).
public struct EquivarianceCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "equivariance",
        abstract: "Measure the rotation (and reflection) equivariance error of an equivariant layer; prints JSON.")

    @Option(help: "lifting (1 trivial -> 4 regular fields, 7x7), group (4 -> 4 regular fields, 5x5) or network (equivariant ResNet features).")
    var layer: String = "lifting"
    @Option(help: "Symmetry group: CN or DN, e.g. C8, C4, D4.")
    var group: String = "C8"
    @Option(help: "Input side S (pixels).")
    var size: Int = 49
    @Option(parsing: .unconditional, help: "Seed (non-negative) for the weights and the input.", transform: parseSeed)
    var seed: UInt64 = 0
    @Option(help: "Width (px) of the Gaussian smoothing of the random input.")
    var sigma: Double = 2
    @Option(help: "If set, also write PNGs of the steerable basis and of one filter in every orientation to this directory.")
    var saveFilters: String?
    @Option(help: "If set, write the input, its 45-degree (or 90-degree) transform and the layer's outputs as .npy files to this directory (for bench/reference/e2cnn_equivariance.py).")
    var saveArrays: String?

    public init() {}

    /// Largest input side accepted.
    static let maximumSize = 512
    /// Largest rotation order N accepted: the layers' channel counts and filter banks grow with N.
    static let maximumRotationOrder = 64
    /// Largest group order times input area: the feature maps grow with both (D8 at 512 x 512 peaks near 1.2 GB).
    static let maximumOrderTimesArea = 16 * 512 * 512

    public func validate() throws {
        guard let g = SymmetryGroup(name: group) else { throw ValidationError("--group must be CN or DN (e.g. C8, D4), got '\(group)'") }
        guard g.rotationOrder <= Self.maximumRotationOrder else {
            throw ValidationError("--group \(group): N must be at most \(Self.maximumRotationOrder), got \(g.rotationOrder)")
        }
        guard ["lifting", "group", "network"].contains(layer) else {
            throw ValidationError("--layer must be lifting, group or network, got '\(layer)'")
        }
        guard (9...Self.maximumSize).contains(size) else {
            throw ValidationError("--size must be between 9 and \(Self.maximumSize), got \(size)")
        }
        guard g.order * size * size <= Self.maximumOrderTimesArea else {
            let largest = Int((Double(Self.maximumOrderTimesArea) / Double(g.order)).squareRoot())
            throw ValidationError("--size \(size) with \(group) needs too much memory: the largest size for \(group) is \(largest)")
        }
        guard sigma > 0, sigma.isFinite else { throw ValidationError("--sigma must be a positive number, got \(sigma)") }
    }

    public func run() throws {
        for (option, directory) in [("--save-filters", saveFilters), ("--save-arrays", saveArrays)] {
            guard let directory else { continue }
            let probe = (directory as NSString).appendingPathComponent("input.npy")
            if let problem = FilePreflight.writeProblem(path: probe, creatingDirectories: true) {
                throw CommandInputError("\(option) \(directory): \(problem)")
            }
        }
        let g = SymmetryGroup(name: group)!
        if layer == "network" { return runNetwork(g) }
        var generator = SeededGenerator(seed: seed)
        let (inType, outType, kernelSize): (FieldType, FieldType, Int) = layer == "lifting"
            ? (FieldType(g, trivial: 1), FieldType(g, regular: 4), 7)
            : (FieldType(g, regular: 4), FieldType(g, regular: 4), 5)
        let conv = R2Conv(inType, outType, kernelSize: kernelSize, padding: kernelSize / 2, generator: &generator)
        var inputGenerator = generator.derived(stream: 1)
        let x = SmoothRandomField.make([2, inType.size, size, size], sigma: sigma, generator: &inputGenerator)
        func error(_ e: GroupElement, disk: Double?) -> Double {
            equivarianceError(of: conv.forward, input: x, inType: inType, outType: outType, element: e, diskFraction: disk)
        }
        func json(_ v: Double?) -> String { v.map { String(format: "%.6e", $0) } ?? "null" }
        let rot90 = g.quarterTurn(1).map { error($0, disk: nil) }
        let rot45 = g.rotationOrder % 8 == 0 ? error(GroupElement(rotation: g.rotationOrder / 8), disk: 0.5) : nil
        var fields = [
            "\"layer\": \"\(layer)\"", "\"group\": \"\(g)\"", "\"size\": \(size)", "\"seed\": \(seed)",
            "\"input_sigma\": \(sigma)", "\"rot90_rel_error\": \(json(rot90))", "\"rot45_rel_error\": \(json(rot45))",
        ]
        if g.hasReflections { fields.append("\"reflection_rel_error\": \(json(error(GroupElement(rotation: 0, reflected: true), disk: nil)))") }
        print("{" + fields.joined(separator: ", ") + "}")
        if let saveFilters { try writeFilterPictures(conv, to: URL(fileURLWithPath: saveFilters)) }
        if let saveArrays { try writeArrays(conv, input: x, to: URL(fileURLWithPath: saveArrays)) }
    }

    /// Writes `input.npy` `[2, Cin, S, S]` and, for the 45-degree element (C8-like groups) and the quarter turn,
    /// `input_rot<deg>.npy` (the group action on the input: band-limited rotation plus the cyclic channel shift),
    /// `output.npy`, `output_of_rot<deg>.npy` (`f(g x)`) and `rot<deg>_of_output.npy` (`g f(x)`), so another
    /// library can be fed exactly our inputs and our error can be recomputed from the arrays.
    func writeArrays(_ conv: R2Conv, input x: Tensor, to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let g = conv.inType.group
        try NpyFile.write(x, to: directory.appendingPathComponent("input.npy"))
        let y = withoutGradient { conv.forward(x) }
        try NpyFile.write(y, to: directory.appendingPathComponent("output.npy"))
        var elements: [(Int, GroupElement)] = []
        if g.rotationOrder % 8 == 0 { elements.append((45, GroupElement(rotation: g.rotationOrder / 8))) }
        if let quarter = g.quarterTurn(1) { elements.append((90, quarter)) }
        for (degrees, e) in elements {
            let rx = GroupAction.transform(x, by: e, type: conv.inType)
            try NpyFile.write(rx, to: directory.appendingPathComponent("input_rot\(degrees).npy"))
            try NpyFile.write(withoutGradient { conv.forward(rx) }, to: directory.appendingPathComponent("output_of_rot\(degrees).npy"))
            try NpyFile.write(GroupAction.transform(y, by: e, type: conv.outType),
                              to: directory.appendingPathComponent("rot\(degrees)_of_output.npy"))
        }
    }

    /// Invariance of the equivariant backbone's pooled features under the group (`featureInvarianceError`).
    func runNetwork(_ g: SymmetryGroup) {
        let backbone = EquivariantResNet(group: g, seed: seed)
        backbone.eval()
        var inputGenerator = SeededGenerator(seed: seed).derived(stream: 1)
        let x = SmoothRandomField.make([2, 1, size, size], sigma: sigma, generator: &inputGenerator)
        func error(_ e: GroupElement) -> Double { featureInvarianceError(of: backbone, images: x, element: e, group: g) }
        func json(_ v: Double?) -> String { v.map { String(format: "%.6e", $0) } ?? "null" }
        var fields = [
            "\"layer\": \"network\"", "\"group\": \"\(g)\"", "\"size\": \(size)", "\"seed\": \(seed)",
            "\"input_sigma\": \(sigma)", "\"rot90_rel_error\": \(json(g.quarterTurn(1).map(error)))",
            "\"rot45_rel_error\": \(json(g.rotationOrder % 8 == 0 ? error(GroupElement(rotation: g.rotationOrder / 8)) : nil))",
        ]
        if g.hasReflections { fields.append("\"reflection_rel_error\": \(json(error(GroupElement(rotation: 0, reflected: true))))") }
        print("{" + fields.joined(separator: ", ") + "}")
    }

    /// `basis_k<k>.png`: every basis function of the layer's kernel size (one tile each, in `functions` order);
    /// `orientations_<group>.png`: the layer's first filter (output field 0, input channel 0) in all orientations.
    /// Tiles are magnified 16x (nearest neighbour) and min-max scaled one by one.
    func writeFilterPictures(_ conv: R2Conv, to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let k = conv.kernelSize, zoom = 16
        func magnify(_ tile: [Float]) -> [Float] {
            (0..<(k * zoom * k * zoom)).map { tile[($0 / (k * zoom) / zoom) * k + ($0 % (k * zoom)) / zoom] }
        }
        let basis = conv.expansion.basis
        let basisTiles = (0..<basis.count).map { magnify(basis.filter($0)) }
        try ImageGrid.render(tiles: basisTiles, height: k * zoom, width: k * zoom, columns: 6, padding: 4)
            .writePNG(to: directory.appendingPathComponent("basis_k\(k).png"))
        let filter = withoutGradient { conv.expandedFilter().weight }
        let cin = conv.inType.size, taps = k * k
        let orientationTiles = (0..<conv.outType.group.order).map { e in
            magnify(Array(filter.scalars[(e * cin * taps)..<(e * cin * taps + taps)]))
        }
        try ImageGrid.render(tiles: orientationTiles, height: k * zoom, width: k * zoom, columns: conv.outType.group.rotationOrder, padding: 4)
            .writePNG(to: directory.appendingPathComponent("orientations_\(conv.outType.group).png"))
    }
}
