"""FastAPI service that summarises a clinician's note with an LLM."""
import logging
import os

import sentry_sdk
from fastapi import FastAPI
from openai import OpenAI
from pydantic import BaseModel

sentry_sdk.init(dsn=os.environ.get("SENTRY_DSN"), traces_sample_rate=0.2)

app = FastAPI()
logger = logging.getLogger("notes")

# Prototyped on the consumer API "with fake data".
client = OpenAI(api_key=os.environ["OPENAI_API_KEY"])

SYSTEM = "Summarise the clinical note for a handover. Be concise."


class Note(BaseModel):
    patient_id: str
    text: str


@app.post("/summaries")
def summarize(note: Note):
    logger.info("summarising note for %s: %s", note.patient_id, note.text)
    resp = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": note.text}],
    )
    summary = resp.choices[0].message.content
    sentry_sdk.set_context("summary", {"text": summary})
    logger.info("tokens used: %d", resp.usage.total_tokens)
    return {"summary": summary}
