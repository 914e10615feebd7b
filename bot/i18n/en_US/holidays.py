"""Texts of /holidays (holiday arrangements) and of the "year not stored" warnings."""
TEXTS: dict[str, str] = {
    "holidays.year_unknown": "⚠️ The {year} arrangement (make-up working days) is not stored yet; statutory "
                             "holidays are used. An admin can add it with /holidays import.",
    "holidays.list_title": "📅 Holidays {year}",
    "holidays.to": " to ",
    "holidays.line_holiday": "**{name}** {days}, {n} days",
    "holidays.line_workdays": "**Make-up working days** {days}",
    "holidays.none": "No holiday data for this year.",
    "holidays.source_shipped": "Source: the State Council's arrangement, shipped with this release.",
    "holidays.source_database": "Source: imported by an admin from {source}",
    "holidays.source_unknown": "not given",
    "holidays.edited": "{n} of these days were added or changed by an admin.",
    "holidays.hint": "Ops/admins: /holidays add 2027-02-10 off Spring Festival | /holidays remove 2027-02-10 | "
                     "/holidays import 2027 (then the notice, or “date,kind,name” lines)",
    "holidays.kind_holiday": "day off",
    "holidays.kind_workday": "make-up working day",
    "holidays.kind_working": "working day",
    "holidays.kind_weekend": "weekend day",
    "holidays.added": "Noted: {days} {kind}{name}",
    "holidays.removed": "Removed: {n} day(s) from {day}; now an ordinary {what}.",
    "holidays.not_listed": "{day} is neither a holiday nor a make-up working day; nothing changed.",
    "holidays.bad_day": "Couldn't read “{text}”. Write a date and a kind, e.g. /holidays add 2027-02-10 off, "
                        "/holidays add 2027-02-20 work, /holidays remove 2027-02-10",
    "holidays.bad_year": "Please give a four-digit year, e.g. /holidays 2027, /holidays import 2027 (“{text}” is not a year)",
    "holidays.import_empty": "No dates of {year} found; nothing imported. Paste, from the line after “/holidays import "
                             "{year}”, the State Council notice (e.g. “二、春节：2月6日至12日放假调休，共7天。2月20日（周六）上班。”) "
                             "or one “2027-02-06,holiday,Spring Festival” per line (holiday = day off, workday = make-up day).",
    "holidays.import_bad": "These lines could not be read (or are not in that year); nothing was imported:\n{lines}",
    "holidays.import_title": "📥 Holidays {year} (to confirm)",
    "holidays.import_count": "{holidays} days off, {workdays} make-up working days.",
    "holidays.import_source": "Source: {source}",
    "holidays.import_warn": "⚠️ These “working” days are ordinary weekdays anyway, please check: {days}",
    "holidays.import_replace": "Confirming replaces the {n} days already stored for {year}.",
    "holidays.btn_import": "Import",
    "holidays.btn_cancel": "Cancel",
    "holidays.imported_title": "✅ Holidays {year} imported",
    "holidays.cancelled_title": "Import of holidays {year} cancelled",
    "holidays.imported_by": "Imported by {name}, {n} days; working-day reminders, deadlines and briefings use it from now on.",
    "holidays.import_cancelled": "{name} cancelled this import; nothing changed.",
    "holidays.import_gone": "This import was already handled (or belongs to another chat).",
}
