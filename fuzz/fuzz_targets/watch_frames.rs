//! Fuzzes the watch stream decoder: the input is split into chunks at boundaries the input
//! itself chooses; no input may panic, the frames must not depend on the chunking, and no
//! frame may exceed the limit.
#![no_main]

use kubeclient::rest::watch::{FrameDecoder, WatchEvent, decode_event};
use libfuzzer_sys::fuzz_target;

const LIMIT: usize = 4096;

fn frames(data: &[u8], cuts: &[usize]) -> Result<Vec<Vec<u8>>, ()> {
    let mut decoder = FrameDecoder::new(LIMIT);
    let mut out = Vec::new();
    let mut start = 0;
    for &cut in cuts.iter().chain(std::iter::once(&data.len())) {
        let end = cut.clamp(start, data.len());
        decoder.push(&data[start..end]);
        start = end;
        loop {
            match decoder.next_frame() {
                Ok(Some(frame)) => {
                    assert!(frame.len() <= LIMIT, "a frame over the limit came out");
                    out.push(frame.to_vec());
                }
                Ok(None) => break,
                Err(_) => return Err(()),
            }
        }
    }
    match decoder.finish() {
        Ok(Some(frame)) => out.push(frame.to_vec()),
        Ok(None) => {}
        Err(_) => return Err(()),
    }
    Ok(out)
}

fuzz_target!(|input: &[u8]| {
    // The first byte picks a chunk size; the rest is the stream.
    let Some((&size, data)) = input.split_first() else {
        return;
    };
    let step = usize::from(size).max(1);
    let cuts: Vec<usize> = (step..data.len()).step_by(step).collect();
    let whole = frames(data, &[]);
    let chunked = frames(data, &cuts);
    if let (Ok(a), Ok(b)) = (&whole, &chunked) {
        assert_eq!(a, b, "frames depend on chunk boundaries");
    }
    for frame in whole.into_iter().flatten() {
        if let Ok(WatchEvent::Error(e)) = decode_event::<serde_json::Value>(&frame, "/fuzz") {
            let _ = e.to_string();
        }
    }
});
