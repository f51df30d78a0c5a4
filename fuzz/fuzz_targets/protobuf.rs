//! Fuzzes the protobuf decoders: an enveloped object, a list (whole, and in chunks as it
//! arrives), a watch frame and an error Status, each read as a `Pod`. No input may panic, and whatever decodes must read the same
//! after being written again.
#![no_main]

use kubeclient_core::api::core::v1::Pod;
use kubeclient_core::protobuf::{self, Codec, Message};
use libfuzzer_sys::fuzz_target;

fn written_again_reads_the_same(pod: &Pod) {
    let codec = Codec::<Pod>::of();
    let bytes = (codec.encode)(pod);
    let again = codec.decode_object(&bytes).expect("our own bytes");
    assert_eq!(&again, pod, "a pod reads differently once written again");
}

fuzz_target!(|data: &[u8]| {
    if let Ok(pod) = Pod::decode(data) {
        written_again_reads_the_same(&pod);
    }
    if let Ok(pod) = protobuf::decode_object::<Pod>(data) {
        written_again_reads_the_same(&pod);
    }
    let whole = protobuf::decode_list(data, Pod::decode);
    if let Ok(list) = &whole {
        list.items.iter().for_each(written_again_reads_the_same);
    }
    // The same bytes read as they would arrive, in chunks (sized by the first byte): a list
    // read this way is the list read whole.
    let chunk = usize::from(data.first().copied().unwrap_or(1)).max(1);
    let mut decoder = protobuf::ListDecoder::new(Pod::decode);
    let streamed = data
        .chunks(chunk)
        .try_for_each(|part| decoder.push(part))
        .and_then(|()| decoder.finish());
    if let (Ok(streamed), Ok(whole)) = (&streamed, &whole) {
        assert_eq!(streamed.items, whole.items, "a list reads differently in chunks");
        assert_eq!(streamed.metadata, whole.metadata);
    }
    if let Ok(protobuf_event) = protobuf::decode_event(data, "/fuzz", Pod::decode) {
        let _ = format!("{protobuf_event:?}");
    }
    if let Ok(status) = protobuf::decode_status(data) {
        let _ = status.message.len();
    }
    let mut frames = protobuf::FrameDecoder::new(4096);
    frames.push(data);
    while let Ok(Some(frame)) = frames.next_frame() {
        assert!(frame.len() <= 4096, "a frame over the limit came out");
    }
});
