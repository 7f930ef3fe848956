// The desk's enrolment QR codes on the Swift layer (decision 0041): the text a phone scans,
// `xiangying://enrol?server=<percent-encoded base URL>&code=<code>`, read by the core's strict
// parser into what `enrol` takes.
import Foundation

extension Xiangying {
    /// Reads the text of a scanned enrolment QR code from the street centre's desk
    /// (`xiangying://enrol?server=…&code=…`) into the `server` and `code` that `enrol` takes.
    /// Strict: anything else throws `ApiError.InvalidInput` (field `enrolment link`, code
    /// `.invalidInput`) naming the problem. Touches no store; safe on any thread.
    public static func parseEnrolLink(_ text: String) throws -> EnrolLink {
        try XiangyingFFI.parseEnrolLink(text: text)
    }
}
