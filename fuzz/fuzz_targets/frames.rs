//! Any bytes as a WebSocket text frame: decoding and the edge checks answer, never panic.
#![no_main]

use haven::hub::text::{parse_language, ClientId, Intake, MessageText, Note};
use haven::protocol::{decode, ChatterFrame, ConsoleFrame};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match decode::<ChatterFrame>(text, ChatterFrame::TYPES) {
        Ok(ChatterFrame::Hello {
            intake, language, ..
        }) => {
            let _ = Intake::parse(intake);
            let _ = parse_language(language);
        }
        Ok(ChatterFrame::Message { id, text }) => {
            let _ = ClientId::parse(id);
            let _ = MessageText::parse(text, 4096);
        }
        _ => {}
    }
    if let Ok(ConsoleFrame::Transfer { note, .. }) =
        decode::<ConsoleFrame>(text, ConsoleFrame::TYPES)
    {
        let _ = Note::parse(note);
    }
});
