"""What every router shares: the API key check, the backend of the app, pages, write answers."""

from __future__ import annotations

import secrets
from functools import cache
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Header, HTTPException, Query, Request, Response, Security
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, TypeAdapter

from amazon_bluecherry.bluecherry import models as m
from amazon_bluecherry.bluecherry.rest import API_KEY_HEADER, IDEMPOTENCY_HEADER
from sandbox.bluecherry.backend import Backend

T = TypeVar("T")
MAX_PAGE = 5000

_api_key_header = APIKeyHeader(name=API_KEY_HEADER, scheme_name="ApiKey", auto_error=False)
IdempotencyKey = Annotated[str, Header(alias=IDEMPOTENCY_HEADER, min_length=1, max_length=200)]
Offset = Annotated[int, Query(ge=0)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]


def authenticated(request: Request, x_api_key: Annotated[str | None, Security(_api_key_header)] = None) -> None:
    api_key = request.app.state.api_key
    if not x_api_key or not secrets.compare_digest(x_api_key.encode(), api_key.encode()):
        raise HTTPException(status_code=401, detail=f"missing or wrong {API_KEY_HEADER}")


def _backend(request: Request) -> Backend:
    return request.app.state.backend


AUTH = [Depends(authenticated)]
BackendDep = Annotated[Backend, Depends(_backend)]


class Page(BaseModel, Generic[T]):
    """One page of a list; ask again with ``offset=next_offset`` until it is null."""

    data: list[T]
    next_offset: int | None = None


def written(result: m.WriteResult, response: Response) -> m.WriteResult:
    response.status_code = 201 if result.outcome == "created" else 200
    return result


@cache
def _list_adapter(model: type[BaseModel]) -> TypeAdapter:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def page(model: type[BaseModel], rows: list[Any], offset: int, limit: int) -> Response:
    """A :class:`Page` serialized straight from the backend's models (no second validation)."""
    following = offset + limit
    next_offset = str(following).encode() if following < len(rows) else b"null"
    body = (
        b'{"data":'
        + _list_adapter(model).dump_json(rows[offset:following])
        + b',"next_offset":'
        + next_offset
        + b"}"
    )
    return Response(body, media_type="application/json")
