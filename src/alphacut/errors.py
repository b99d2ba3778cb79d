"""Typed errors raised by the core. Each front door maps them once.

``exit_code`` is what the CLI returns; ``http_status`` is what the server answers.
"""

from __future__ import annotations


class AlphacutError(Exception):
    """Base of every error alphacut raises on purpose."""

    exit_code = 1
    http_status = 500
    code = "error"


class InvalidImage(AlphacutError):
    """The input is empty, truncated, corrupt, or not an image at all."""

    exit_code = 2
    http_status = 422
    code = "invalid_image"


class UnsupportedImage(InvalidImage):
    """The input is an image, but in a format or mode alphacut cannot read."""

    http_status = 415
    code = "unsupported_image"


class ImageTooLarge(InvalidImage):
    """The input exceeds the pixel or byte limit (guards against decompression bombs)."""

    http_status = 413
    code = "image_too_large"


class InvalidOption(AlphacutError):
    """An option is unknown or has an invalid value; the message lists valid ones."""

    exit_code = 2
    http_status = 422
    code = "invalid_option"


class UnknownModel(InvalidOption):
    """No model spec by that name."""

    code = "unknown_model"


class ModelNotServed(InvalidOption):
    """The request names (or its preset implies) a model this server does not serve."""

    code = "model_not_served"


class WeightsError(AlphacutError):
    """Model weights could not be fetched, verified or loaded."""

    exit_code = 3
    http_status = 503
    code = "weights_error"


class WeightsMissing(WeightsError):
    """A served model's weights are not in this server's cache (the operator must fetch them)."""

    http_status = 503
    code = "weights_missing"


class WebRuntimeMissing(WeightsMissing):
    """The in-browser runtime's files are not in this server's cache."""

    code = "web_runtime_missing"


class OfflineError(WeightsError):
    """Weights are missing and ALPHACUT_OFFLINE forbids fetching them."""

    code = "offline"


class OutputError(AlphacutError):
    """An output could not be written (unwritable folder, exists without --overwrite...)."""

    exit_code = 4
    http_status = 500
    code = "output_error"


class Busy(AlphacutError):
    """The server's queue is full; try again later."""

    exit_code = 5
    http_status = 503
    code = "busy"


class RequestTimeout(AlphacutError):
    """Processing took longer than the server's per-request timeout."""

    exit_code = 5
    http_status = 504
    code = "timeout"


class BadRequest(AlphacutError):
    """The HTTP request itself is malformed (broken multipart, no image part...)."""

    exit_code = 2
    http_status = 400
    code = "bad_request"


class BodyTimeout(BadRequest):
    """The client did not send the whole body within the server's body timeout."""

    http_status = 408
    code = "body_timeout"
    close_connection = True


class ClusterError(AlphacutError):
    """The cluster run stopped (Ray unreachable, a stage failing past its retries); rerunning
    the same command finishes the rest."""

    exit_code = 6
    http_status = 503
    code = "cluster_error"


class InternalError(AlphacutError):
    """A bug in alphacut, not a problem with the input: please report it."""

    exit_code = 70  # EX_SOFTWARE
    http_status = 500
    code = "internal_error"
