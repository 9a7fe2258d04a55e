"""Nightly batch job on Azure OpenAI — with the deployment baked in and no API version."""
import os

from langchain_openai import AzureChatOpenAI

llm = AzureChatOpenAI(
    azure_endpoint=os.environ["AZURE_OPENAI_ENDPOINT"],
    azure_deployment="gpt4o-notes-prod",
)


def run(notes):
    return [llm.invoke(n) for n in notes]
