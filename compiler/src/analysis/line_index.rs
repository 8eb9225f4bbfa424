//! Byte offsets ↔ LSP positions. The protocol counts lines from 0 and
//! columns in UTF-16 code units; the compiler counts bytes. Conversions
//! clamp out-of-range positions to the nearest valid place instead of
//! failing, because an editor may ask about a position in text it changed
//! a moment ago.

/// A 0-based line and a 0-based column in UTF-16 code units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Position {
    pub line: u32,
    pub character: u32,
}

impl Position {
    pub fn new(line: u32, character: u32) -> Self {
        Position { line, character }
    }
}

/// The line starts of one text, for conversions in both directions.
#[derive(Clone, Debug)]
pub struct LineIndex {
    line_starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { line_starts }
    }

    /// The position of a byte offset of `text` (the text this index was
    /// built from). An offset inside a character counts as its start.
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.line_starts.get(line).copied().unwrap_or(0);
        let character: usize = text
            .get(start..offset)
            .map_or(0, |s| s.chars().map(char::len_utf16).sum());
        Position::new(to_u32(line), to_u32(character))
    }

    /// The byte offset of a position in `text`. A line past the end gives
    /// the end of the text; a column past the end of its line gives the end
    /// of the line; a column inside a surrogate pair gives the character's
    /// start.
    pub fn offset(&self, text: &str, position: Position) -> usize {
        let Some(&start) = self.line_starts.get(position.line as usize) else {
            return text.len();
        };
        let end = self
            .line_starts
            .get(position.line as usize + 1)
            .map_or(text.len(), |next| next - 1);
        let line = text.get(start..end).unwrap_or("");
        let mut units = 0usize;
        for (i, c) in line.char_indices() {
            let next = units + c.len_utf16();
            if next > position.character as usize {
                return start + i;
            }
            units = next;
        }
        // Past the end of the line; keep a `\r` of a CRLF line ending out.
        start + line.strip_suffix('\r').map_or(line.len(), str::len)
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_round_trip() {
        let text = "ab\ncd\n";
        let index = LineIndex::new(text);
        assert_eq!(index.position(text, 4), Position::new(1, 1));
        assert_eq!(index.offset(text, Position::new(1, 1)), 4);
        assert_eq!(index.position(text, 6), Position::new(2, 0));
    }

    #[test]
    fn non_ascii_counts_utf16_units() {
        // `é` is 2 bytes and 1 unit, `🙂` is 4 bytes and 2 units.
        let text = "// é🙂\nx é🙂 y";
        let index = LineIndex::new(text);
        let y = text.rfind('y').unwrap_or(0);
        assert_eq!(index.position(text, y), Position::new(1, 6));
        assert_eq!(index.offset(text, Position::new(1, 6)), y);
        let smile = text.rfind('🙂').unwrap_or(0);
        assert_eq!(index.position(text, smile), Position::new(1, 3));
        // Inside the surrogate pair: the start of the emoji.
        assert_eq!(index.offset(text, Position::new(1, 4)), smile);
        // Inside a UTF-8 sequence: the start of the character.
        assert_eq!(index.position(text, smile + 1), Position::new(1, 3));
    }

    #[test]
    fn out_of_range_positions_clamp() {
        let text = "ab\r\ncd";
        let index = LineIndex::new(text);
        assert_eq!(index.offset(text, Position::new(0, 99)), 2);
        assert_eq!(index.offset(text, Position::new(9, 0)), text.len());
        assert_eq!(index.position(text, 999), Position::new(1, 2));
    }
}
