"""Request and response bodies of the REST API (pydantic models: the OpenAPI spec comes from here).

Write bodies follow the ETL input format (DESIGN.md, "The input format"): the same fields, the
same rules, so a record sent to the API and a row in a file mean the same thing. A field that
breaks a rule gives a 422 whose ``detail[].loc`` names it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

Id = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^\S(.*\S)?$")]
Lat = Annotated[float, Field(ge=-90, le=90)]
Lon = Annotated[float, Field(ge=-180, le=180)]


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return value
    offset = value.utcoffset()
    if offset is None:
        raise ValueError("a time needs a UTC offset, e.g. 2026-05-01T19:00:00+02:00")
    if abs(offset.total_seconds()) > 18 * 3600:
        raise ValueError("a UTC offset must be within -18:00 and +18:00")
    if not 1900 <= value.year <= 2200:
        raise ValueError("must be a time between the years 1900 and 2200")
    return value


def _text(value: str) -> str:
    """Text must be valid Unicode that UTF-8 can carry (no lone surrogates, no NUL)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("is not valid Unicode text") from exc
    if "\x00" in value:
        raise ValueError("contains a NUL character")
    return value


AwareTime = Annotated[datetime, AfterValidator(_aware)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _valid_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            return _text(value)
        if isinstance(value, list):
            return [_text(v) if isinstance(v, str) else v for v in value]
        return value


class UserIn(_Body):
    id: Id
    name: str | None = Field(default=None, max_length=500)
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    gender: Literal["female", "male", "non-binary", "other", "unknown"] | None = None
    locale: str | None = Field(default=None, max_length=35)
    city: str | None = Field(default=None, max_length=200)
    lat: Lat
    lon: Lon
    joined_at: AwareTime | None = None


class HostIn(_Body):
    id: Id
    name: str | None = Field(default=None, max_length=500)
    kind: Literal["person", "organisation"] | None = None
    user_id: Id | None = Field(default=None, description="The user who runs the host.")


class EventIn(_Body):
    id: Id
    host_id: Id
    title: str | None = Field(default=None, max_length=500)
    description: str | None = Field(default=None, max_length=20_000)
    category: str | None = Field(default=None, max_length=200)
    tags: list[str] = Field(default_factory=list, max_length=50)
    start_time: AwareTime
    end_time: AwareTime | None = None
    price: float | None = Field(default=None, ge=0)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    capacity: int | None = Field(default=None, ge=0)
    lat: Lat
    lon: Lon
    city: str | None = Field(default=None, max_length=200)
    country: str | None = Field(default=None, max_length=200)
    created_at: AwareTime | None = None

    @model_validator(mode="after")
    def _end_after_start(self) -> EventIn:
        if self.end_time is not None and self.end_time < self.start_time:
            raise ValueError("end_time is before start_time")
        return self


class FriendshipIn(_Body):
    user_id: Id
    friend_id: Id
    since: AwareTime | None = None

    @model_validator(mode="after")
    def _two_people(self) -> FriendshipIn:
        if self.user_id == self.friend_id:
            raise ValueError("friend_id: a user cannot be their own friend")
        return self


class RegistrationIn(_Body):
    user_id: Id
    event_id: Id
    at: AwareTime | None = Field(default=None, description="Defaults to the time of the request.")
    status: Literal["going", "maybe", "declined", "waitlist", "watching"] = "going"


class InvitationIn(_Body):
    user_id: Id
    event_id: Id
    by_user_id: Id | None = None
    at: AwareTime | None = None


class ViewIn(_Body):
    user_id: Id
    event_id: Id
    at: AwareTime | None = None
    count: int = Field(default=1, ge=1, le=10_000)


class WriteOut(BaseModel):
    kind: str
    created: bool = Field(description="False when the record existed (the write was an update).")
    record: dict[str, Any]


class Reason(BaseModel):
    kind: Literal[
        "friends_going",
        "invited",
        "host_attended",
        "follows_host",
        "nearby",
        "distance",
        "category",
        "popular",
        "newcomer_popular",
    ]
    text: str
    details: dict[str, Any] = Field(default_factory=dict)


class Item(BaseModel):
    event_id: str
    title: str | None
    start_time: datetime | None
    lat: float | None
    lon: float | None
    distance_km: float | None
    score: float = Field(description="The model's probability that the user registers.")
    reasons: list[Reason]
    sources: list[str] | None = Field(default=None, description="With explain=true.")
    features: dict[str, float] | None = Field(default=None, description="With explain=true.")


class Recommendations(BaseModel):
    user_id: str
    model_version: str
    newcomer: bool = Field(description="True for an unknown id with a location: popular nearby.")
    as_of: datetime
    radius_km: float
    items: list[Item]


class Problem(BaseModel):
    detail: str
