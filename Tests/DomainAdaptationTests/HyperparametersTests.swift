import DomainAdaptation
import Foundation
import Testing

@Suite struct HyperparametersTests {
    /// Every field survives a JSON round trip: each encoded value is changed (so a field the decoder forgot would come
    /// back as its default and differ), decoded and re-encoded.
    @Test func everyFieldRoundTrips() throws {
        let encoded = try JSONSerialization.jsonObject(with: JSONEncoder().encode(Hyperparameters())) as! [String: Any]
        var changed: [String: Double] = [:]
        for (key, value) in encoded { changed[key] = (value as! NSNumber).doubleValue + 3 }
        let decoded = try JSONDecoder().decode(Hyperparameters.self, from: JSONSerialization.data(withJSONObject: changed))
        let again = try JSONSerialization.jsonObject(with: JSONEncoder().encode(decoded)) as! [String: Any]
        #expect(Set(again.keys) == Set(changed.keys))
        for (key, value) in changed {
            #expect(abs((again[key] as! NSNumber).doubleValue - value) < 1e-6 * max(1, abs(value)), "\(key)")
        }
    }

    /// A `run.json` from an older version without some keys decodes, the missing ones at their defaults.
    @Test func missingKeysKeepDefaults() throws {
        let decoded = try JSONDecoder().decode(Hyperparameters.self, from: Data(#"{"learningRate": 0.01}"#.utf8))
        var expected = Hyperparameters()
        expected.learningRate = 0.01
        #expect(decoded == expected)
    }
}
