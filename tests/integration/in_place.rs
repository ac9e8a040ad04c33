//! A file written in place (truncated, written, closed) is read only once
//! its writer closed it, however slow the writer: never half.

use crate::running::{publishes, serial, start, wait_for};

#[test]
fn a_file_written_in_place_is_read_only_once_closed() {
    use std::io::Write;
    let f = serial();
    let server = start(&f);
    let before = publishes(&server);
    // Written in place, slowly: truncated, half written, a pause far longer
    // than the quiet period that ends a burst, then the rest, then closed.
    let path = f.content().join("s/02-b.md");
    let mut file = std::fs::File::create(&path).unwrap();
    file.write_all(b"+++\ntitle = \"Second\"\ndate = 2026-11-09T10:00:00\n+++\nFirst half.").unwrap();
    file.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300)); // the writer is slow, not the test
    assert_eq!(publishes(&server), before, "nothing is published while the file is open");
    file.write_all(b" Second half.\n").unwrap();
    drop(file);
    let page = wait_for("the whole file", || {
        let body = String::from_utf8(server.get("/s/2/", &[]).body).unwrap();
        body.contains("Second half.").then_some(body)
    });
    assert!(page.contains("First half. Second half."), "{page}");
    assert_eq!(publishes(&server), before + 1, "published once, whole");
}
