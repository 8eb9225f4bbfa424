#!/usr/bin/env bash
# Regenerates the sample media of the Timecard example (the objects its
# events.jsonl names): screen frames rendered with ImageMagick and audio
# chunks spoken by espeak-ng, as Ogg Vorbis (chunks of one session joined
# byte by byte are one chained Ogg stream, which sox reads whole).
# Needs the tools of scripts/setup-media. Objects live under
# acme-timecard-media/, the bucket the events name.
set -euo pipefail
cd "$(dirname "$0")"
bucket=acme-timecard-media
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

frame() { # KEY TEXT
  mkdir -p "$bucket/$(dirname "$1")"
  convert -size 1280x400 -background white -fill black -font DejaVu-Sans \
    -pointsize 26 caption:"$2" -strip -colors 4 "$bucket/$1"
}

session() { # SESSION PHRASE… ("-" is a chunk without speech)
  local dir="$bucket/audio/$1" i=0
  shift
  mkdir -p "$dir"
  for phrase in "$@"; do
    i=$((i + 1))
    local out
    out="$dir/$(printf %04d "$i").ogg"
    if [ "$phrase" = "-" ]; then
      sox -n -r 16000 -c 1 -C 1 "$out" trim 0 1.0
    else
      espeak-ng -v en-us+klatt -s 140 -w "$tmp/chunk.wav" "$phrase"
      sox "$tmp/chunk.wav" -r 16000 -c 1 -C 1 "$out" pad 0.2 0.3
    fi
  done
}

frame frames/ana.silva/2026-03-02T09:00:45Z.png "billing.rs — invoices
fn total_due(invoice: &Invoice) -> Money {
    invoice.lines.iter().map(|l| l.amount).sum()
}
// TODO: apply the late fee to overdue invoices"
frame frames/ana.silva/2026-03-02T09:01:45Z.png "Stripe API reference — Invoices
Create an invoice: POST /v1/invoices
Finalize an invoice to charge the customer
Webhook event: invoice.payment_failed"
frame frames/ana.silva/2026-03-02T09:02:50Z.png "#payments
Maria: the late fee rollout is blocked on the billing refactor
Ana: I am adding the overdue check to total_due today
Ben: Stripe webhooks retry failed invoices for three days"
frame frames/ana.silva/2026-03-02T09:03:45Z.png "billing.rs — invoices
fn late_fee(invoice: &Invoice, today: Date) -> Money {
    if invoice.due_date < today { invoice.total() * 0.02 } else { Money::ZERO }
}
#[test] fn overdue_invoices_pay_a_late_fee()"
frame frames/ben.kowalski/2026-03-02T09:05:45Z.png "billing.rs — invoices
impl Invoice { fn is_overdue(&self, today: Date) -> bool }
cargo test billing::late_fee ... ok
Refactor: move currency rounding into Money"
frame frames/ben.kowalski/2026-03-02T09:06:45Z.png "Stripe API reference — Webhooks
Verify webhook signatures with the signing secret
Retry schedule for failed deliveries: up to three days"
frame frames/ben.kowalski/2026-03-02T09:07:50Z.png "#payments
Ben: webhook signature check is merged
Maria: great, release the invoice reminders on Thursday
Ana: late fee tests pass on main"
frame frames/ben.kowalski/2026-03-02T09:08:45Z.png "billing.rs — invoices
fn send_reminder(invoice: &Invoice) -> Result<(), MailError>
Reminder email: your invoice is overdue
Pull request: invoice reminders and late fees"

session sess-2026-03-02-0900-ana "today i am working on" "the new payment page" \
  "for our customers" "i need to finish" "the report for the team" \
  "before the end of the day" "and then we will have" "a meeting at three" - \
  "please send me the numbers" "when you can" "thank you very much" \
  "see you later" "i will call you tomorrow"
session sess-2026-03-02-0905-ben "this morning i am looking at" "the payment messages" \
  "from the bank" "most of them work" "but some of them fail" \
  "so i will try again" "three times a day" "and tell the customer" - \
  "the tests are good" "we can ship it" "on thursday" \
  "after lunch" "let me know what you think"
