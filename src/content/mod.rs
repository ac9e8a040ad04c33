//! Disk → raw: finds the content files, decodes them, splits and parses front
//! matter, and turns Markdown into HTML. Knows nothing of feeds or URLs'
//! meaning: link rewriting is a function the caller passes in.

pub mod front_matter;
pub mod markdown;
pub mod text;
pub mod walk;
