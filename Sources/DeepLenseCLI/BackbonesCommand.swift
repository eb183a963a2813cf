import ArgumentParser
import Backbones
import Core
import Foundation

/// `deeplense backbones`: the backbones the factory builds, with parameter counts and forward FLOPs.
public struct BackbonesCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "backbones",
        abstract: "List the available backbones with parameters and forward GFLOPs at 64x64 and 150x150.")

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    public init() {}

    /// One row of the table.
    public struct Row: Codable, Equatable {
        public let name: String
        public let parameters: Int
        public let gflops64: Double
        public let gflops150: Double
        public let summary: String
    }

    /// Rows for every factory name (builds each backbone once).
    public static func rows() throws -> [Row] {
        try BackboneFactory.names.map { name in
            let backbone = try BackboneFactory.make(name: name, seed: 0)
            let flops = backbone as? FLOPCounting
            return Row(name: name, parameters: backbone.parameterCount,
                       gflops64: (flops?.forwardFLOPs(height: 64, width: 64) ?? .nan) / 1e9,
                       gflops150: (flops?.forwardFLOPs(height: 150, width: 150) ?? .nan) / 1e9,
                       summary: BackboneFactory.summary(of: name) ?? "")
        }
    }

    public func run() throws {
        let rows = try Self.rows()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(rows), as: UTF8.self))
            return
        }
        print("| backbone | parameters | GFLOPs 64x64 | GFLOPs 150x150 | description |")
        print("|---|---:|---:|---:|---|")
        for r in rows {
            print("| \(r.name) | \(r.parameters) | \(String(format: "%.3f", r.gflops64)) | \(String(format: "%.3f", r.gflops150)) | \(r.summary) |")
        }
    }
}
