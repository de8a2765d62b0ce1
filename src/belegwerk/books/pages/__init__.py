"""Web pages of the books: settings, categories, parties, invoices, cash book and closing."""
