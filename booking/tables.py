"""Imports every table of the domain, so the metadata is complete for Alembic and for tests.

This is not a door to the models: code imports a model from its capability's ``models``
package (``booking.lending.models.loans``). Only what needs every table at once (migrations,
``create_all``, the device side's foreign keys) imports this module.
"""

import booking.alerts.models.alerts
import booking.alerts.models.notifications
import booking.core.models.audit
import booking.core.models.outages
import booking.core.models.sends
import booking.core.models.sites
import booking.core.models.uptime
import booking.health.models.consents
import booking.health.models.pairings
import booking.health.models.readings
import booking.health.models.settings
import booking.lending.models.door_sessions
import booking.lending.models.events
import booking.lending.models.loans
import booking.lending.models.mismatches
import booking.lending.models.policies
import booking.lending.models.reservations
import booking.lending.models.suspensions
import booking.lending.models.tool_types
import booking.lending.models.tools
import booking.messages.models.outbox
import booking.messages.models.preferences
import booking.people.models.api_tokens
import booking.people.models.calendar_feeds
import booking.people.models.card_binds
import booking.people.models.memberships
import booking.people.models.resident_sessions
import booking.people.models.residents
import booking.people.models.sign_in_failures
import booking.people.models.staff
import booking.people.models.staff_sessions
import booking.spaces.models.bookings
import booking.spaces.models.closures
import booking.spaces.models.seats
import booking.spaces.models.series
import booking.spaces.models.series_exceptions
import booking.spaces.models.space_rules
import booking.spaces.models.spaces
import booking.spaces.models.strikes
import booking.spaces.models.suspensions
import booking.spaces.models.waitlist  # noqa: F401
