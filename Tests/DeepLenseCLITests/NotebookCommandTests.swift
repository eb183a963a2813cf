import DeepLenseCLI
import Foundation
import Testing

/// Every `deeplense ...` command shown in `notebooks-md/` must parse with the current CLI, so the notebooks
/// cannot drift from the commands they document.
@Suite struct NotebookCommandTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Command lines in fenced code blocks that start with `deeplense` or `$ deeplense` (backslash continuations joined).
    /// Variables of enclosing shell `for NAME in VALUE ...; do` loops take their first value; `; done` is dropped.
    static func notebookCommands() throws -> [(file: String, arguments: [String])] {
        let folder = repositoryRoot.appendingPathComponent("notebooks-md")
        let notebooks = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
            .filter { $0.hasSuffix(".md") }.map { folder.appendingPathComponent($0) }
        var result: [(String, [String])] = []
        for url in notebooks + [repositoryRoot.appendingPathComponent("README.md")] {
            let name = url.lastPathComponent
            let text = try String(contentsOf: url, encoding: .utf8)
            var inCode = false
            var pending = ""
            var variables: [String: String] = [:]
            for raw in text.components(separatedBy: "\n") {
                let line = raw.trimmingCharacters(in: .whitespaces)
                if line.hasPrefix("```") { inCode.toggle(); pending = ""; continue }
                guard inCode else { continue }
                var command = pending.isEmpty ? line : pending + " " + line
                if command.hasSuffix("\\") { pending = String(command.dropLast()); continue }
                pending = ""
                if command.hasPrefix("$ ") { command.removeFirst(2) }
                if let comment = command.range(of: " #") { command = String(command[..<comment.lowerBound]) }
                for loop in command.components(separatedBy: "; do").dropLast() {
                    let words = shellWords(loop.components(separatedBy: "for ").last ?? "")
                    if words.count >= 3, words[1] == "in" { variables[words[0]] = words[2] }
                    command = command.components(separatedBy: "; do").last!.trimmingCharacters(in: .whitespaces)
                }
                command = command.replacingOccurrences(of: "; done", with: "")
                for (name, value) in variables { command = command.replacingOccurrences(of: "$" + name, with: value) }
                for prefix in [".build/release/deeplense ", "swift run -c release deeplense ", "deeplense "] where command.hasPrefix(prefix) {
                    let rest = String(command.dropFirst(prefix.count))
                    let withoutRedirect = rest.components(separatedBy: " |").first!.components(separatedBy: " >").first!
                    result.append((name, shellWords(withoutRedirect)))
                    break
                }
            }
        }
        return result
    }

    static func shellWords(_ s: String) -> [String] {
        var words: [String] = [], current = "", quote: Character? = nil
        for ch in s {
            if let q = quote { if ch == q { quote = nil } else { current.append(ch) }; continue }
            if ch == "\"" || ch == "'" { quote = ch; continue }
            if ch == " " { if !current.isEmpty { words.append(current); current = "" }; continue }
            current.append(ch)
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    @Test func everyNotebookCommandParses() throws {
        let commands = try Self.notebookCommands()
        #expect(commands.count >= 10, "expected the notebooks and README to show deeplense commands")
        for (file, arguments) in commands {
            do {
                _ = try DeepLense.parseAsRoot(arguments)
            } catch {
                Issue.record("\(file): `deeplense \(arguments.joined(separator: " "))` does not parse: \(DeepLense.message(for: error))")
            }
        }
    }

    @Test func shellWordSplitting() {
        #expect(Self.shellWords("simulate --out 'a b' --count 3") == ["simulate", "--out", "a b", "--count", "3"])
    }
}
