import FlapJSON
import Foundation

/// Loads manifests the way `kubectl apply -f` reads them: YAML or JSON, several documents, `List` kinds expanded.
public enum Manifests {
    public static func load(path: String) throws -> [KubeObject] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw KubeconfigError.unreadableFile(path: path, purpose: "manifest", reason: error.localizedDescription)
        }
        return try self.parse(text, file: path)
    }

    public static func parse(_ text: String, file: String? = nil) throws -> [KubeObject] {
        let documents: [JSONValue]
        if text.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("{") {
            documents = [try JSONValue.parse(text)]
        } else {
            documents = try YAML.parseDocuments(text, file: file)
        }
        var objects: [KubeObject] = []
        for (index, document) in documents.enumerated() where document != .null {
            guard document.objectValue != nil else {
                throw KubeDecodingError(operation: "load \(file ?? "manifest")", message: "document \(index + 1) is not an object")
            }
            if document["kind"]?.stringValue?.hasSuffix("List") == true, let items = document["items"]?.arrayValue {
                objects += items.map(KubeObject.init(json:))
                continue
            }
            guard document["apiVersion"]?.stringValue != nil, document["kind"]?.stringValue != nil else {
                throw KubeDecodingError(operation: "load \(file ?? "manifest")", message: "document \(index + 1) has no apiVersion or kind")
            }
            objects.append(KubeObject(json: document))
        }
        return objects
    }
}
