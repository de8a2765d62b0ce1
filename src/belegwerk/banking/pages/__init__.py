"""Web pages of banking: accounts, statement import, transactions, rules, CSV templates and the
money overview. Each module exposes ``pages`` (an APIRouter) listed in web.app.PAGE_MODULES."""
