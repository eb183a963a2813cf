/// An ordered mapping from dotted keys to tensors: what `Module.stateDict()` returns and safetensors stores.
public struct StateDict: Sendable {
    public var entries: [(key: String, tensor: Tensor)]
    /// Keys whose values are integer counts held in float tensors (`num_batches_tracked`): serialised as I64.
    public var integerKeys: Set<String>

    public init(_ entries: [(key: String, tensor: Tensor)] = [], integerKeys: Set<String> = []) {
        self.entries = entries
        self.integerKeys = integerKeys
    }

    public var keys: [String] { entries.map(\.key) }

    public subscript(key: String) -> Tensor? {
        get { entries.first { $0.key == key }?.tensor }
        set {
            if let i = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[i].tensor = newValue } else { entries.remove(at: i) }
            } else if let newValue {
                entries.append((key, newValue))
            }
        }
    }
}

/// Why a state dict does not fit a module.
public enum StateDictError: Error, Equatable, CustomStringConvertible {
    case missingKeys([String])
    case unexpectedKeys([String])
    case shapeMismatch(key: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case .missingKeys(let keys): return "missing keys in state dict: \(Self.list(keys))"
        case .unexpectedKeys(let keys): return "unexpected keys in state dict: \(Self.list(keys))"
        case let .shapeMismatch(key, expected, found):
            return "shape mismatch for \(key): model has \(expected), state dict has \(found)"
        }
    }

    /// The first few keys, then how many there are in all, so the message stays one readable line.
    private static func list(_ keys: [String]) -> String {
        let shown = 5
        guard keys.count > shown else { return keys.joined(separator: ", ") }
        return keys.prefix(shown).joined(separator: ", ") + ", ... (\(keys.count) keys)"
    }
}

extension Module {
    /// Copies of every parameter and buffer, keyed by dotted path.
    public func stateDict() -> StateDict {
        StateDict(namedTensors().map { ($0.key, Tensor(shape: $0.tensor.shape, scalars: $0.tensor.scalars)) },
                  integerKeys: integerKeys())
    }

    /// Dotted keys of every buffer listed in some module's `integerBufferNames`.
    func integerKeys(prefix: String = "") -> Set<String> {
        var keys = Set(integerBufferNames.map { prefix + Module.snakeCase($0) })
        for (key, child) in namedChildren {
            keys.formUnion(child.integerKeys(prefix: prefix + Module.snakeCase(key) + "."))
        }
        return keys
    }

    /// Loads values into this module's tensors.
    ///
    /// With `strict` (the default), keys missing from `state` and keys the module does not have are errors;
    /// a shape mismatch is always an error. Nothing is modified unless the whole dict fits.
    public func load(stateDict state: StateDict, strict: Bool = true) throws {
        let mine = namedTensors()
        let myKeys = Set(mine.map(\.key))
        let given = Dictionary(state.entries.map { ($0.key, $0.tensor) }, uniquingKeysWith: { _, last in last })
        if strict {
            let missing = mine.map(\.key).filter { given[$0] == nil }
            if !missing.isEmpty { throw StateDictError.missingKeys(missing) }
            let unexpected = state.keys.filter { !myKeys.contains($0) }
            if !unexpected.isEmpty { throw StateDictError.unexpectedKeys(unexpected) }
        }
        for (key, tensor, _) in mine {
            if let value = given[key], value.shape != tensor.shape {
                throw StateDictError.shapeMismatch(key: key, expected: tensor.shape, found: value.shape)
            }
        }
        for (key, tensor, _) in mine {
            if let value = given[key] { tensor.assign(value.scalars) }
        }
        for module in allModules() { module.didLoadState() }
    }
}

