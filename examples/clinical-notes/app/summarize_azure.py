"""The compliant version: Azure OpenAI, Entra ID, deployment and version from configuration."""
import hashlib
import logging
import os

from azure.identity import DefaultAzureCredential, get_bearer_token_provider
from openai import AzureOpenAI

logger = logging.getLogger("notes")

token_provider = get_bearer_token_provider(DefaultAzureCredential(), "https://cognitiveservices.azure.com/.default")
client = AzureOpenAI(
    azure_endpoint=os.environ["AZURE_OPENAI_ENDPOINT"],
    azure_ad_token_provider=token_provider,
    api_version=os.environ["OPENAI_API_VERSION"],
)


def summarize(text: str) -> str:
    resp = client.chat.completions.create(
        model=os.environ["AZURE_OPENAI_DEPLOYMENT"],
        messages=[{"role": "user", "content": text}],
    )
    summary = resp.choices[0].message.content
    logger.info("summary %s: %d chars", hashlib.sha256(summary.encode()).hexdigest()[:12], len(summary))
    return summary
