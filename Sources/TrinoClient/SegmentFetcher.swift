import Foundation
import HTTPWire

/// Reads the segments of a spooled (`json`) result: inline ones from base64, spooled ones by GET with exactly
/// their own headers (never the client's credentials), each acknowledged after its rows decoded.
struct SegmentFetcher {
    let client: TrinoClient
    let recorder: QueryTraceRecorder
    let deadline: ContinuousClock.Instant

    func rows(of data: SpooledData, columns: [TrinoColumn]) async throws -> TrinoRows {
        guard data.encoding == "json" else {
            throw TrinoProtocolError.spooling("encoding \(data.encoding) was not requested; only json can be decoded")
        }
        var rows = TrinoRows(pages: [])
        for segment in data.segments {
            if segment.uncompressedSize != nil {
                throw TrinoProtocolError.spooling("segment is compressed, but this client asked for uncompressed json")
            }
            let segmentRows: TrinoRows
            switch segment.kind {
            case .inline(let base64):
                guard let bytes = Data(base64Encoded: base64) else { throw TrinoProtocolError.spooling("inline segment is not base64") }
                segmentRows = try RowDecoder.decodeRows([UInt8](bytes), columns: columns)
            case .spooled(let uri, let ackURI, let headers):
                let body = try await self.download(uri, headers: headers)
                if let size = segment.segmentSize, size != body.count {
                    throw TrinoProtocolError.spooling("segment \(uri) has \(body.count) bytes, its metadata says \(size)")
                }
                segmentRows = try RowDecoder.decodeRows(body, columns: columns)
                if let ackURI { await self.acknowledge(ackURI, headers: headers) }
            }
            if let count = segment.rowsCount, count > 0, segmentRows.count != Int(count) {
                throw TrinoProtocolError.spooling("segment at row \(segment.rowOffset ?? 0) promised \(count) rows, held \(segmentRows.count)")
            }
            rows += segmentRows
        }
        return rows
    }

    private func request(_ uri: String, headers: [String: [String]]) throws -> HTTPClientRequest {
        guard let url = URL(string: uri) else { throw TrinoProtocolError.spooling("segment uri \"\(uri)\" is not a URL") }
        var request = HTTPClientRequest(url: url)
        for (name, values) in headers {
            guard values.count <= 1 else { throw TrinoProtocolError.spooling("segment header \(name) has \(values.count) values") }
            if let value = values.first { request.headers.add(name, value) }
        }
        request.headers.set("Accept-Encoding", "identity")
        return request
    }

    /// GET with redirects followed (the coordinator may answer 303 to storage or a worker).
    private func download(_ uri: String, headers: [String: [String]]) async throws -> [UInt8] {
        var request = try self.request(uri, headers: headers)
        for _ in 0..<5 {
            let response = try await self.client.send(request, purpose: .segment, deadline: self.deadline, recorder: self.recorder,
                                                      expecting: [200, 301, 302, 303, 307, 308])
            guard (300..<400).contains(response.status) else { return response.body }
            guard let location = response.headers["Location"], let next = URL(string: location, relativeTo: request.url)?.absoluteURL else {
                throw TrinoProtocolError.spooling("redirect from \(request.url) without a Location")
            }
            request.url = next
        }
        throw TrinoProtocolError.spooling("too many redirects for segment \(uri)")
    }

    /// Fire-and-forget in spirit: a failed acknowledgement is recorded in the trace, never fails the query.
    private func acknowledge(_ uri: String, headers: [String: [String]]) async {
        guard let request = try? self.request(uri, headers: headers) else { return }
        _ = try? await self.client.send(request, purpose: .acknowledge, deadline: min(self.deadline, .now + .seconds(2)),
                                        recorder: self.recorder, expecting: [200, 204])
    }
}
