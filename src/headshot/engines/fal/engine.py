"""`FalEngine`: trains a portrait LoRA with `fal-ai/flux-lora-portrait-trainer` and generates
with `fal-ai/flux-lora`, through fal's queue. It never retries a submit (docs/engines.md)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from headshot.domain.errors import InvalidInputError, PayloadTooLargeError
from headshot.engines.fal import payloads, results
from headshot.engines.fal.client import DEFAULT_TIMEOUT, FalHttp, FalKey
from headshot.engines.fal.credentials import FalCredentials
from headshot.engines.fal.queue import FalQueue
from headshot.engines.fal.reconcile import Reconciliation, unclaimed_requests
from headshot.engines.fal.storage import Acl, FalStorage, UploadPolicy
from headshot.engines.fal.webhooks import webhook_token
from headshot.engines.protocol import (
    EngineError,
    EngineRejectedError,
    GeneratedImage,
    GenerationRequest,
    Handle,
    JobKind,
    JobStatus,
    ProviderAuthError,
    TrainedModel,
    TrainingRequest,
)
from headshot.imaging.decode import clean_original

DEFAULT_API_URL = "https://api.fal.ai"  # Platform APIs: payload deletion, request listing
MAX_WEIGHTS_BYTES = 1024 * 1024 * 1024
MAX_IMAGE_BYTES = 64 * 1024 * 1024
MAX_IMAGE_PIXELS = 64_000_000
MAX_IMAGE_SIDE = 16_384
MAX_CONFIG_BYTES = 1024 * 1024


@dataclass(frozen=True)
class FalPrivacy:
    """How long fal keeps what we give it and what it makes (seconds; 0 is never allowed since
    fal reads it as "keep forever")."""

    store_io: bool = False  # False sends X-Fal-Store-IO: 0 (no request history at fal)
    upload_expiry_s: int = 6 * 3600  # the selfie zip: long enough to wait in the queue
    upload_acl: Acl | None = None  # restrictive ACLs may stop the trainer reading the zip
    weights_expiry_s: int = 3600  # a re-uploaded LoRA, used by the generation at hand
    training_output_expiry_s: int = 7 * 24 * 3600  # fal's LoRA copy doubles as weights_url
    generation_output_expiry_s: int = 24 * 3600  # we download images as soon as they exist


class FalEngine:
    name = "fal"

    def __init__(
        self,
        credentials: FalCredentials,
        *,
        queue_url: str,
        rest_url: str,
        cdn_url: str,
        api_url: str = DEFAULT_API_URL,
        publish: Callable[[bytes, str], str] | None = None,
        webhook_url: str | None = None,
        webhook_secret: bytes | None = None,
        privacy: FalPrivacy = FalPrivacy(),
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if webhook_url is not None and not webhook_secret:
            raise ValueError("a webhook_url needs a webhook_secret for its job tokens")
        self._credentials = credentials
        self._api_url = api_url.rstrip("/")
        self._publish = publish
        self._webhook_url = webhook_url
        self._webhook_secret = webhook_secret or b""
        self._privacy = privacy
        self._clock = clock
        self._http = FalHttp(timeout=timeout, transport=transport)
        self._queue = FalQueue(self._http, queue_url=queue_url)
        self._storage = FalStorage(self._http, rest_url=rest_url, cdn_url=cdn_url, clock=clock)

    def close(self) -> None:
        self._http.close()

    # -- submits: each sends exactly one POST per fal request and never retries it --------

    def submit_training(self, request: TrainingRequest) -> Handle:
        payloads.check_training(request)
        key = self._active_key()
        archive = payloads.training_zip(request)
        expiry = self._privacy.training_output_expiry_s
        try:
            images_url = self._make_reachable(archive, key=key, name=f"{request.job_id}.zip")
            arguments = payloads.trainer_input(request, images_url=images_url)
            data = self._submit(
                payloads.TRAINER, arguments, key=key, job_id=request.job_id, output_expiry_s=expiry
            )
        except ProviderAuthError:
            # A refused key took nothing: retire it so the job's next attempt uses another.
            self._credentials.mark_unauthorized(key.key_id)
            raise
        return Handle(self.name, "training", {**data, "key_id": key.key_id})

    def submit_generation(self, request: GenerationRequest) -> Handle:
        batches = payloads.generation_inputs(request)
        key = self._active_key()
        submitted: list[dict[str, str]] = []
        try:
            for arguments in batches:
                submitted.append(
                    self._submit(
                        payloads.GENERATOR,
                        arguments,
                        key=key,
                        job_id=request.job_id,
                        output_expiry_s=self._privacy.generation_output_expiry_s,
                    )
                )
        except EngineError as exc:
            if isinstance(exc, ProviderAuthError):
                self._credentials.mark_unauthorized(key.key_id)
            # Later batches failed: earlier ones would bill for images nobody collects.
            for data in submitted:
                self._queue.cancel(data, key=key)
            raise
        return Handle(
            self.name,
            "generation",
            {
                "requests": submitted,
                "key_id": key.key_id,
                "endpoint": payloads.GENERATOR,
                "width": request.width,
                "height": request.height,
            },
        )

    def _submit(
        self,
        endpoint: str,
        arguments: Mapping[str, Any],
        *,
        key: FalKey,
        job_id: str,
        output_expiry_s: int,
    ) -> dict[str, str]:
        headers = UploadPolicy(output_expiry_s).headers()
        if not self._privacy.store_io:
            headers["X-Fal-Store-IO"] = "0"
        webhook = self.webhook_for(job_id) if self._webhook_url else None
        return self._queue.submit(
            endpoint, arguments, key=key, headers=headers, webhook_url=webhook
        )

    def webhook_for(self, job_id: str) -> str:
        """Our webhook URL for a job: the configured URL plus `job` and its HMAC `token`."""
        if self._webhook_url is None:
            raise ValueError("no webhook_url configured")
        parts = urlsplit(self._webhook_url)
        query = parse_qsl(parts.query)
        query += [("job", job_id), ("token", webhook_token(self._webhook_secret, job_id))]
        return urlunsplit(parts._replace(query=urlencode(query)))

    def _make_reachable(self, archive: bytes, *, key: FalKey, name: str) -> str:
        if self._publish is not None:
            return self._publish(archive, name)  # our own signed URL: selfies never reach fal
        return self._storage.upload(
            archive,
            key=key,
            file_name=name,
            content_type="application/zip",
            policy=UploadPolicy(self._privacy.upload_expiry_s, self._privacy.upload_acl),
        )

    # -- following a job, on the key that started it ------------------------------------

    def poll(self, handle: Handle) -> JobStatus:
        key = self._handle_key(handle)
        statuses = [self._queue.status(data, key=key) for data in _requests(handle)]
        return results.merge_statuses(statuses)

    def cancel(self, handle: Handle) -> None:
        key = self._handle_key(handle)
        for data in _requests(handle):
            self._queue.cancel(data, key=key)

    def fetch_training(self, handle: Handle) -> TrainedModel:
        key = self._handle_key(handle)
        (data,) = _requests(handle)
        body = self._queue.result(data, key=key)
        lora = results.file_ref(
            body.get("diffusers_lora_file") if isinstance(body, dict) else None, what="LoRA"
        )
        weights, _ = self._http.download(lora.url, max_bytes=MAX_WEIGHTS_BYTES)
        metadata: dict[str, Any] = {"request_id": data["request_id"], "provider_url": lora.url}
        metadata.update(self._config_metadata(body.get("config_file")))
        return TrainedModel(weights, "lora.safetensors", metadata, provider_url=lora.url)

    def _config_metadata(self, value: Any) -> dict[str, Any]:
        if value is None:
            return {}
        ref = results.file_ref(value, what="config")
        content, _ = self._http.download(ref.url, max_bytes=MAX_CONFIG_BYTES)
        return {"config_url": ref.url, "config": content.decode("utf-8", "replace")}

    def fetch_generation(self, handle: Handle) -> tuple[GeneratedImage, ...]:
        key = self._handle_key(handle)
        images: list[GeneratedImage] = []
        for data in _requests(handle):
            body = self._queue.result(data, key=key)
            refs, nsfw, seed = results.image_refs(body)
            for ref, flagged in zip(refs, nsfw, strict=True):
                content, _ = self._http.download(ref.url, max_bytes=MAX_IMAGE_BYTES)
                content, media_type = _pixels_only(content)
                images.append(
                    GeneratedImage(
                        image=content,
                        media_type=media_type,
                        seed=seed,  # fal reports one seed per request (batch)
                        width=ref.width or int(handle.data.get("width", 0)),
                        height=ref.height or int(handle.data.get("height", 0)),
                        flagged_nsfw=flagged,
                    )
                )
        return tuple(images)

    # -- fal-specific operations ------------------------------------------------------------

    def reupload_weights(self, weights: bytes) -> str:
        """Put our stored LoRA back on fal storage (short expiry) when fal's copy has expired."""
        return self._storage.upload(
            weights,
            key=self._active_key(),
            file_name="lora.safetensors",
            content_type="application/octet-stream",
            policy=UploadPolicy(self._privacy.weights_expiry_s, self._privacy.upload_acl),
        )

    def delete_payloads(self, request_id: str) -> bool:
        """Delete fal's stored IO and output files of a request (ADMIN key). False when no ADMIN
        key is configured or fal reported a file it could not delete."""
        admin = self._credentials.admin()
        if admin is None:
            return False
        response = self._http.request(
            "DELETE",
            f"{self._api_url}/v1/models/requests/{request_id}/payloads",
            key=FalKey(*admin),
            headers={"Idempotency-Key": f"delete-{request_id}"},
            ok_statuses=frozenset({404}),
        )
        if response.status_code == 404:
            return True  # nothing stored (Store-IO off, or already deleted)
        outcomes = response.json().get("cdn_delete_results") or []
        return all(not item.get("exception") for item in outcomes if isinstance(item, dict))

    def handle_for_request(self, kind: JobKind, request_id: str, *, key_id: str) -> Handle:
        """A handle for a request known only by id (from a webhook or `reconcile`)."""
        data = self._queue.request_urls(_ENDPOINTS[kind], request_id)
        return Handle(self.name, kind, {**data, "key_id": key_id})

    def reconcile(
        self,
        kind: JobKind,
        *,
        sent_after: datetime,
        known_request_ids: Collection[str] = (),
        request_id_hint: str | None = None,
    ) -> Reconciliation:
        """Did an ambiguous submit reach fal? Sends no submit itself. `known_request_ids` are
        the requests our other jobs already own; `request_id_hint` comes from
        `FalSubmitOutcomeUnknownError.request_id`."""
        key = self._active_key()
        if request_id_hint is not None:
            handle = self.handle_for_request(kind, request_id_hint, key_id=key.key_id)
            if self._queue.exists(handle.data, key=key):
                return Reconciliation("found", handle)
        candidates = unclaimed_requests(
            self._http,
            self._api_url,
            key=key,
            endpoint=_ENDPOINTS[kind],
            sent_after=sent_after,
            known_request_ids=known_request_ids,
        )
        if len(candidates) == 1:
            handle = self.handle_for_request(kind, candidates[0], key_id=key.key_id)
            return Reconciliation("found", handle, tuple(candidates))
        if not candidates:
            return Reconciliation("absent")
        return Reconciliation("unclear", candidates=tuple(candidates))

    def _active_key(self) -> FalKey:
        return FalKey(*self._credentials.active())

    def _handle_key(self, handle: Handle) -> FalKey:
        key_id = str(handle.data["key_id"])
        return FalKey(key_id, self._credentials.secret(key_id))


_ENDPOINTS: Mapping[JobKind, str] = {"training": payloads.TRAINER, "generation": payloads.GENERATOR}


def _requests(handle: Handle) -> list[Mapping[str, Any]]:
    """A training handle holds one request's URLs at top level; a generation handle a list."""
    if handle.engine != FalEngine.name:
        raise EngineError(f"not a fal handle: {handle.engine!r}")
    listed = handle.data.get("requests")
    return list(listed) if listed is not None else [handle.data]


def _pixels_only(content: bytes) -> tuple[bytes, str]:
    """A provider's image may carry metadata (generation parameters in PNG text chunks, EXIF,
    XMP): keep only its pixels, through the same sanitiser as uploaded photos."""
    try:
        return clean_original(content, max_pixels=MAX_IMAGE_PIXELS, max_side=MAX_IMAGE_SIDE)
    except (InvalidInputError, PayloadTooLargeError) as exc:
        raise EngineRejectedError(f"The provider returned an unusable image: {exc}") from exc
