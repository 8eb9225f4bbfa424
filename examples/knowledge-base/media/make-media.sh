#!/usr/bin/env bash
# Regenerates the sample media of the Knowledge Base example (the objects
# its events.jsonl names and its views read): whiteboard photos and note
# attachments rendered with ImageMagick, meeting recordings spoken by
# espeak-ng as Ogg Vorbis. Needs the tools of scripts/setup-media. Objects
# live under acme-kb-media/, the bucket the events name.
set -euo pipefail
cd "$(dirname "$0")"
bucket=acme-kb-media
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

image() { # KEY TEXT (the key's extension picks the format)
  mkdir -p "$bucket/$(dirname "$1")"
  convert -size 1200x500 -background white -fill black -font DejaVu-Sans \
    -pointsize 28 caption:"$2" -strip "$bucket/$1"
}

meeting() { # KEY SENTENCE…
  local key="$1" parts=() i=0
  shift
  mkdir -p "$bucket/$(dirname "$key")"
  for sentence in "$@"; do
    i=$((i + 1))
    espeak-ng -v en-us+klatt -s 140 -w "$tmp/$i.wav" "$sentence"
    parts+=("$tmp/$i.wav")
  done
  sox "${parts[@]}" -r 16000 -c 1 -C 1 "$bucket/$key" gain -3 pad 0.2 0.5
}

image whiteboards/room-4b/board-0931.jpg "Architecture review
Event bus -> search indexer -> knowledge base
Open question: who owns the document schema?
Decision: meetings are transcribed within one hour"
image whiteboards/room-4b/board-1012.jpg "Sprint planning
1. Search results show the meeting date
2. Link notes to their whiteboard photos
3. Retry failed transcriptions"
image notes/note-7f3e21/architecture.png "Architecture: upload service, event bus, indexer
Documents are stored as Markdown in the wiki bucket"
image notes/note-91aa02/timeline.jpg "Timeline: beta in April, launch in June
Milestone: search across meetings and notes"

meeting meetings/mtg-2026-03-04-arch.ogg \
  "good morning everyone" "today we talk about the new search page" \
  "we will index every meeting and every note" "please send me your questions by friday"
meeting meetings/mtg-2026-03-04-retro.ogg \
  "what went well this week" "the team finished the report on time" \
  "next time we will start the meeting at three" "thank you all"
