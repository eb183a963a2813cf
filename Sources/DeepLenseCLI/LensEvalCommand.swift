import ArgumentParser
import Foundation
import Lensing

/// `deeplense lens-eval`: evaluates one mass profile at points and prints one JSON object
/// `{"profile": ..., "alpha_x": [...], "alpha_y": [...], "kappa": [...], "psi": [...]}` (one entry per point).
public struct LensEvalCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "lens-eval",
        abstract: "Evaluate a lens profile (SIS, SIE, SHEAR, POINT_MASS, TNFW, LINE_MASS) at points; prints JSON.")

    @Option(help: "Profile name (lenstronomy naming).")
    var profile: String
    @Option(name: .customLong("param"), help: "A parameter as KEY=VALUE (lenstronomy names, arcsec); repeatable.")
    var params: [String] = []
    @Option(name: .customLong("point"), parsing: .unconditionalSingleValue,
            help: "An evaluation point X,Y in arcsec (negative coordinates allowed: --point -0.5,0.3); repeatable.")
    var points: [String] = []

    public init() {}

    func parsedParameters() throws -> [String: Double] {
        var values: [String: Double] = [:]
        for item in params {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, let v = Double(parts[1]), v.isFinite else {
                throw ValidationError("--param expects KEY=VALUE with a finite number, got '\(item)'")
            }
            guard values.updateValue(v, forKey: parts[0]) == nil else {
                throw ValidationError("--param \(parts[0]) is given more than once")
            }
        }
        return values
    }

    func parsedPoints() throws -> [(Double, Double)] {
        try points.map { item in
            let parts = item.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 2, let x = parts[0], let y = parts[1], x.isFinite, y.isFinite else {
                throw ValidationError("--point expects X,Y, got '\(item)'")
            }
            return (x, y)
        }
    }

    public func validate() throws {
        guard !points.isEmpty else { throw ValidationError("give at least one --point X,Y") }
        _ = try parsedPoints()
        let values = try parsedParameters()
        do {
            _ = try ProfileCatalog.make(name: profile, values: values)
        } catch let error as ProfileCatalogError {
            throw ValidationError(error.description)
        }
    }

    public func run() throws {
        let lens = try ProfileCatalog.make(name: profile, values: try parsedParameters())
        let points = try parsedPoints()
        let results = points.map { lens.evaluate(x: $0.0, y: $0.1) }
        for (point, q) in zip(points, results) where ![q.alphaX, q.alphaY, q.kappa, q.psi].allSatisfy(\.isFinite) {
            throw CommandInputError("\(profile) gives a non-finite value at the point \(point.0),\(point.1) (a singularity, "
                + "or numbers too large for double precision); choose another point or parameters")
        }
        func list(_ f: (LensQuantities) -> Double) -> String {
            "[" + results.map { String(format: "%.17g", f($0)) }.joined(separator: ", ") + "]"
        }
        print("{\"profile\": \"\(profile)\", \"alpha_x\": \(list { $0.alphaX }), \"alpha_y\": \(list { $0.alphaY }), "
            + "\"kappa\": \(list { $0.kappa }), \"psi\": \(list { $0.psi })}")
    }
}
