import KubeClient
import XCTest

final class YAMLTests: XCTestCase {
    func testKubeconfigShapedDocument() throws {
        let text = """
        apiVersion: v1
        kind: Config
        clusters:
        - cluster:
            certificate-authority-data: LS0tLS1CRUdJTg==   # base64
            server: https://127.0.0.1:6443
          name: kind-kind
        contexts:
        - context: {cluster: kind-kind, user: "kind-kind", namespace: 'team a'}
          name: kind-kind
        current-context: kind-kind
        preferences: {}
        users:
        - name: kind-kind
          user:
            exec:
              apiVersion: client.authentication.k8s.io/v1beta1
              args:
              - --region
              - "eu-west-1"
              env: null
              provideClusterInfo: true
        """
        let doc = try YAML.parse(text)
        XCTAssertEqual(doc["kind"], "Config")
        XCTAssertEqual(doc["clusters"]?.arrayValue?.first?["cluster"]?["server"], "https://127.0.0.1:6443")
        XCTAssertEqual(doc["clusters"]?.arrayValue?.first?["cluster"]?["certificate-authority-data"], "LS0tLS1CRUdJTg==")
        XCTAssertEqual(doc["contexts"]?.arrayValue?.first?["context"]?["namespace"], "team a")
        XCTAssertEqual(doc["preferences"], .object([:]))
        let exec = doc["users"]?.arrayValue?.first?["user"]?["exec"]
        XCTAssertEqual(exec?["args"], ["--region", "eu-west-1"])
        XCTAssertEqual(exec?["env"], .null)
        XCTAssertEqual(exec?["provideClusterInfo"], true)
    }

    func testScalarsBlockScalarsAndDocuments() throws {
        let text = """
        a: 8080
        b: "8080"
        c: 1.5
        d: ~
        e: yes
        f: 'it''s'
        g: "tab\\there \\u00e9"
        h: |
          line one
            indented
        i: >-
          folded
          text
        j: [1, "two", {k: v}]
        k: plain # comment
        l: "a # not a comment"
        ---
        second: doc
        ...
        """
        let docs = try YAML.parseDocuments(text)
        XCTAssertEqual(docs.count, 2)
        let d = docs[0]
        XCTAssertEqual(d["a"], .number("8080"))
        XCTAssertEqual(d["b"], "8080")
        XCTAssertEqual(d["c"], .number("1.5"))
        XCTAssertEqual(d["d"], .null)
        XCTAssertEqual(d["e"], "yes", "YAML 1.2: yes is a string")
        XCTAssertEqual(d["f"], "it's")
        XCTAssertEqual(d["g"], "tab\there é")
        XCTAssertEqual(d["h"], "line one\n  indented\n")
        XCTAssertEqual(d["i"], "folded text")
        XCTAssertEqual(d["j"], [1, "two", ["k": "v"]])
        XCTAssertEqual(d["k"], "plain")
        XCTAssertEqual(d["l"], "a # not a comment")
        XCTAssertEqual(docs[1], ["second": "doc"])
    }

    func testSequencesOfMappingsAtKeyIndent() throws {
        let text = """
        spec:
          rules:
          - matches:
            - path: {type: PathPrefix, value: /}
            backendRefs:
            - name: trino
              port: 8080
              weight: 1
            -   name: trino-b
                port: 8081
        """
        let rules = try XCTUnwrap(try YAML.parse(text)["spec"]?["rules"]?.arrayValue)
        XCTAssertEqual(rules.count, 1)
        XCTAssertEqual(rules[0]["matches"]?.arrayValue?.first?["path"]?["value"], "/")
        XCTAssertEqual(rules[0]["backendRefs"]?.arrayValue?.map { $0["name"] }, ["trino", "trino-b"])
        XCTAssertEqual(rules[0]["backendRefs"]?.arrayValue?.last?["port"], 8081)
    }

    func testErrorsNameFileLineAndColumn() {
        let cases: [(String, Int, String)] = [
            ("a: 1\n  b: 2\n", 2, "unexpected indentation"),
            ("a: \"unterminated\n", 1, "unterminated double-quoted string"),
            ("a: [1, 2\n", 1, "unterminated flow sequence"),
            ("a: 1\na: 2\n", 2, "duplicate key \"a\""),
            ("a: &anchor 1\n", 1, "anchors and aliases are not supported"),
            ("list:\n- a\nnot a mapping line\n", 3, "expected \"key: value\""),
        ]
        for (text, line, message) in cases {
            XCTAssertThrowsError(try YAML.parse(text, file: "/tmp/config"), text) { error in
                guard let yaml = error as? YAMLError else { return XCTFail("\(error)") }
                XCTAssertEqual(yaml.file, "/tmp/config")
                XCTAssertEqual(yaml.line, line, "\(text): \(yaml)")
                XCTAssertTrue(yaml.message.contains(message), "\(text): \(yaml)")
                XCTAssertTrue(yaml.description.hasPrefix("/tmp/config:\(line):"))
            }
        }
    }
}
