import Foundation

/// A value decoded with its synthesized decoder (every key it needs present) that also refuses keys it does not
/// know, so a misspelt or foreign key is an error instead of being dropped. The known keys are those the value encodes,
/// so `Value` must encode every property (no optionals, which encode nothing when nil).
struct ExactlyDecoded<Value: Codable>: Decodable {
    let value: Value

    init(from decoder: Decoder) throws {
        value = try Value(from: decoder)
        let given = try decoder.container(keyedBy: AnyCodingKey.self).allKeys.map(\.stringValue)
        let encoded = try JSONSerialization.jsonObject(with: JSONEncoder().encode(value)) as? [String: Any] ?? [:]
        try rejectUnknownKeys(given, known: Array(encoded.keys), decoder: decoder)
    }
}

/// Throws a `DecodingError` naming the keys of `given` that are not `known`.
func rejectUnknownKeys(_ given: [String], known: [String], decoder: Decoder) throws {
    let unknown = given.filter { !known.contains($0) }.sorted()
    guard !unknown.isEmpty else { return }
    let text = "unknown key\(unknown.count == 1 ? "" : "s") \(unknown.joined(separator: ", ")) "
        + "(known: \(known.sorted().joined(separator: ", ")))"
    throw DecodingError.dataCorrupted(DecodingError.Context(codingPath: decoder.codingPath, debugDescription: text))
}

/// A coding key of any name, to list the keys an object holds.
struct AnyCodingKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { return nil }
}

extension DecodingError {
    /// One line naming the dotted key path the error is about (`hyperparameters.cgdm.numK is missing`).
    var summary: String {
        func path(_ keys: [CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch self {
        case let .keyNotFound(key, context): return "\(path(context.codingPath + [key])) is missing"
        case let .valueNotFound(_, context): return "\(path(context.codingPath)) has no value"
        case let .typeMismatch(type, context): return "\(path(context.codingPath)) is not a valid \(type)"
        case let .dataCorrupted(context):
            let place = path(context.codingPath)
            return place.isEmpty ? context.debugDescription : "\(place): \(context.debugDescription)"
        @unknown default: return "\(self)"
        }
    }
}
