"""The ADBC Flight SQL connection of the interop scripts: `grpc://ADDRESS`, the token (if any) as
a bearer `authorization` header, autocommit (Isobar has no transactions)."""

import adbc_driver_flightsql.dbapi as flight_sql
from adbc_driver_flightsql import DatabaseOptions


def connect(address, token):
    options = {}
    if token is not None:
        options[DatabaseOptions.AUTHORIZATION_HEADER.value] = f"Bearer {token}"
    return flight_sql.connect(f"grpc://{address}", db_kwargs=options, autocommit=True)
