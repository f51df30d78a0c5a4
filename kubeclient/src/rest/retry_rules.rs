//! Which failures the request loop retries, and how long it waits: client-go's
//! `checkWait`/`retryAfterSeconds` (a `Retry-After` answer) and `IsProbableEOF`-style checks
//! (a GET whose connection went away), with the HTTP-date form of `Retry-After` read too.

use std::time::Duration;

use http::HeaderMap;
use http::header::RETRY_AFTER;

use super::client::MAX_RETRY_AFTER;
use super::transport::TransportError;

/// The wait a `Retry-After` header asks for, capped at [`MAX_RETRY_AFTER`]: a number of
/// seconds (negative means none, as client-go's `time.Sleep` of a negative duration), or an
/// HTTP date (IMF-fixdate, which jiff's RFC 2822 parser reads) counted from `now` (none when
/// it has passed). `None` when the header is absent or neither form.
pub(super) fn retry_after(headers: &HeaderMap, now: jiff::Timestamp) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = match value.parse::<i64>() {
        Ok(seconds) => Duration::from_secs(u64::try_from(seconds).unwrap_or(0)),
        // IMF-fixdate is always in GMT; jiff would read other RFC 2822 zones too.
        Err(_) if value.ends_with(" GMT") => {
            let at = jiff::fmt::rfc2822::DateTimeParser::new()
                .parse_timestamp(value)
                .ok()?;
            Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO)
        }
        Err(_) => return None,
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// Whether `e` means the connection went away under the request (reset, closed early, an
/// HTTP/2 connection lost): client-go retries GETs on these.
pub(super) fn is_connection_lost(e: &TransportError) -> bool {
    let TransportError::Http { source, .. } = e else {
        return false;
    };
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(source);
    while let Some(err) = cause {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::UnexpectedEof
            )
        {
            return true;
        }
        if let Some(h) = err.downcast_ref::<hyper::Error>()
            && (h.is_incomplete_message() || h.is_canceled() || h.is_closed())
        {
            return true;
        }
        cause = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn at(rfc3339: &str) -> jiff::Timestamp {
        rfc3339.parse().expect("timestamp")
    }

    #[test]
    fn retry_after_reads_seconds_and_caps_them() {
        let now = at("2015-10-21T07:28:00Z");
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers, now), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(3)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("86400"));
        assert_eq!(retry_after(&headers, now), Some(MAX_RETRY_AFTER));
        // Zero and negative numbers mean at once (client-go sleeps a negative duration).
        for value in ["0", "-5"] {
            headers.insert(RETRY_AFTER, HeaderValue::from_static(value));
            assert_eq!(retry_after(&headers, now), Some(Duration::ZERO), "{value}");
        }
        for junk in ["3.5", "soon", ""] {
            headers.insert(RETRY_AFTER, HeaderValue::from_static(junk));
            assert_eq!(retry_after(&headers, now), None, "{junk:?}");
        }
    }

    #[test]
    fn retry_after_reads_http_dates_from_now() {
        let mut headers = HeaderMap::new();
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        let cases = [
            ("2015-10-21T07:27:53Z", Duration::from_secs(7)),
            ("2015-10-21T07:27:59.250Z", Duration::from_millis(750)),
            ("2015-10-21T07:28:00Z", Duration::ZERO),
            ("2015-10-21T07:30:00Z", Duration::ZERO), // already past: at once
            ("2015-10-21T06:00:00Z", MAX_RETRY_AFTER), // far ahead: capped
        ];
        for (now, want) in cases {
            assert_eq!(retry_after(&headers, at(now)), Some(want), "now {now}");
        }
        // A wrong weekday, another zone or an obsolete form is not read.
        for bad in [
            "Thu, 21 Oct 2015 07:28:00 GMT",
            "Wed, 21 Oct 2015 07:28:00 XYZ",
            "Wed, 21 Oct 2015 09:28:00 +0200",
            "Wednesday, 21-Oct-15 07:28:00 GMT",
            "Wed Oct 21 07:28:00 2015",
        ] {
            headers.insert(RETRY_AFTER, HeaderValue::from_static(bad));
            assert_eq!(
                retry_after(&headers, at("2015-10-21T07:27:00Z")),
                None,
                "{bad}"
            );
        }
    }
}
