import FlapJSON
import Foundation
import KubeClient

/// Applies a user's manifests when the lab starts (`lab up --manifests DIR`): every `.yaml`, `.yml` and `.json`
/// file of a directory (or one file), in name order, Namespaces first; an object that exists is replaced.
enum LabManifests {
    static func files(at path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw LabError(.badManifest, "manifests: \(path) does not exist")
        }
        guard isDirectory.boolValue else { return [path] }
        let names = try FileManager.default.contentsOfDirectory(atPath: path)
            .filter { [".yaml", ".yml", ".json"].contains(where: $0.hasSuffix) }.sorted()
        guard !names.isEmpty else { throw LabError(.badManifest, "manifests: \(path) has no .yaml, .yml or .json file") }
        return names.map { "\(path)/\($0)" }
    }

    /// Loads every object first, so a broken file changes nothing.
    static func apply(_ path: String, kube: KubeClient) async throws -> [KubeObject] {
        var objects: [(file: String, object: KubeObject)] = []
        for file in try self.files(at: path) {
            do {
                for object in try Manifests.parse(String(contentsOfFile: file, encoding: .utf8), file: file) {
                    guard object.resourceType != nil else {
                        throw LabError(.badManifest, "manifests: \(file): \(object.kind ?? "?") \(object.apiVersion ?? "?") is not a kind the lab serves "
                                       + "(\(ResourceType.known.map(\.kind).joined(separator: ", ")))")
                    }
                    objects.append((file, object))
                }
            } catch let error as LabError {
                throw error
            } catch {
                throw LabError(.badManifest, "manifests: \(file): \(error)")
            }
        }
        let ordered = objects.filter { $0.object.kind == "Namespace" } + objects.filter { $0.object.kind != "Namespace" }
        var applied: [KubeObject] = []
        for (file, object) in ordered {
            do {
                applied.append(try await self.createOrReplace(object, kube: kube))
            } catch {
                throw LabError(.badManifest, "manifests: \(file): \(object.kind ?? "") \(object.namespace.map { "\($0)/" } ?? "")\(object.name): \(error)")
            }
        }
        return applied
    }

    private static func createOrReplace(_ object: KubeObject, kube: KubeClient) async throws -> KubeObject {
        do {
            return try await kube.create(object)
        } catch let error as KubeStatusError where error.isAlreadyExists {
            guard let resource = object.resourceType else { throw error }
            var replacement = object
            replacement.metadata.resourceVersion = try await kube.get(resource, name: object.name, namespace: object.namespace).metadata.resourceVersion
            return try await kube.replace(replacement)
        }
    }
}
