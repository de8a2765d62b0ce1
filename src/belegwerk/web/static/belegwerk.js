/* Belegwerk – small helpers for forms. Pages work without JavaScript; this only adds
   conveniences: invoice line rows, live net/VAT/gross previews, the cash count sum.
   Amounts are computed in integer cents (BigInt) with half-up rounding like the server. */
"use strict";

(function () {
  const lang = document.documentElement.lang === "en" ? "en-GB" : "de-DE";
  const numberFormat = new Intl.NumberFormat(lang, {
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
  });

  /* "1.234,56", "1.000", "1234.56", "12,5" -> scaled BigInt with `places` decimals, or null
     (the same reading as decimal_input on the server). */
  function parseScaled(text, places) {
    let s = String(text || "").trim().replace(/\s|€/g, "");
    if (!s) return null;
    if (s.indexOf(",") >= 0 || /^[+-]?[1-9]\d{0,2}(\.\d{3})+$/.test(s)) {
      s = s.replace(/\./g, "").replace(",", ".");  // German: 1.234,56 or 1.000
    }
    const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(s);
    if (!m || (m[2] === "" && !m[3])) return null;
    const frac = (m[3] || "").padEnd(places, "0");
    if (frac.length > places && /[1-9]/.test(frac.slice(places))) return null;
    const value = BigInt((m[2] || "0") + frac.slice(0, places));
    return m[1] === "-" ? -value : value;
  }

  /* a / b rounded half away from zero (Python's ROUND_HALF_UP). */
  function roundDiv(a, b) {
    const neg = (a < 0n) !== (b < 0n);
    const x = a < 0n ? -a : a;
    const y = b < 0n ? -b : b;
    const q = (x * 2n + y) / (2n * y);
    return neg ? -q : q;
  }

  function money(cents) {
    return numberFormat.format(Number(cents) / 100) + " €";
  }

  function rateLabel(rateScaled) {
    return numberFormat.format(Number(rateScaled) / 100).replace(/[.,]00$/, "") + " %";
  }

  /* ---------------------------------------------------------------- invoice form */

  function setupInvoiceForm(form) {
    const body = form.querySelector("[data-lines]");
    const template = document.getElementById("line-template");
    const totals = form.querySelector("[data-invoice-totals]");
    if (!body || !template) return;

    function priceMode() {
      const checked = form.querySelector("[name=price_mode]:checked");
      return checked ? checked.value : "net";
    }

    function recalc() {
      const mode = priceMode();
      const byRate = new Map();
      body.querySelectorAll("tr").forEach(function (row) {
        const qty = parseScaled(row.querySelector("[name=line_quantity]").value, 4);
        const price = parseScaled(row.querySelector("[name=line_unit_price]").value, 4);
        const rateInput = row.querySelector("[name=line_vat_rate]");
        const rate = parseScaled(rateInput ? rateInput.value : "0", 2) || 0n;
        const out = row.querySelector("[data-line-sum]");
        if (qty === null || price === null) {
          if (out) out.textContent = "";
          return;
        }
        const base = roundDiv(qty * price, 1000000n); // 4+4 places -> cents
        if (out) out.textContent = money(base);
        byRate.set(rate, (byRate.get(rate) || 0n) + base);
      });
      if (!totals) return;
      const rates = Array.from(byRate.keys()).sort(function (a, b) {
        return a > b ? -1 : a < b ? 1 : 0;
      });
      let net = 0n, vat = 0n, gross = 0n;
      const rows = [];
      rates.forEach(function (rate) {
        const base = byRate.get(rate);
        let n, v, g;
        if (mode === "gross") {
          g = base;
          n = roundDiv(base * 10000n, 10000n + rate);
          v = g - n;
        } else {
          n = base;
          v = roundDiv(base * rate, 10000n);
          g = n + v;
        }
        net += n; vat += v; gross += g;
        rows.push("<tr><th>" + totals.dataset.labelNet + " " + rateLabel(rate) + "</th><td>" +
          money(n) + "</td></tr><tr><th>" + totals.dataset.labelVat + " " + rateLabel(rate) +
          "</th><td>" + money(v) + "</td></tr>");
      });
      rows.push("<tr class=\"grand\"><th>" + totals.dataset.labelGross + "</th><td>" +
        money(gross) + "</td></tr>");
      totals.querySelector("tbody").innerHTML = rows.join("");
      const hiddenNet = totals.querySelector("[data-total-net]");
      if (hiddenNet) hiddenNet.textContent = money(net);
    }

    form.addEventListener("click", function (event) {
      const add = event.target.closest("[data-add-line]");
      if (add) {
        event.preventDefault();
        body.appendChild(template.content.cloneNode(true));
        const rows = body.querySelectorAll("tr");
        const last = rows[rows.length - 1];
        const first = last && last.querySelector("input");
        if (first) first.focus();
        recalc();
        return;
      }
      const remove = event.target.closest("[data-remove-line]");
      if (remove) {
        event.preventDefault();
        const row = remove.closest("tr");
        if (body.querySelectorAll("tr").length > 1) {
          row.remove();
        } else {
          row.querySelectorAll("input").forEach(function (i) { i.value = ""; });
        }
        recalc();
      }
    });
    /* Categories fit one direction (revenue for sales, expenses for purchases); a small
       business charges no VAT on its sales. */
    function applyDirection() {
      const checked = form.querySelector("[name=direction]:checked");
      const direction = checked ? checked.value : "out";
      const noVat = form.dataset.smallBusiness === "1" && direction === "out";
      body.querySelectorAll("tr").forEach(function (row) {
        row.querySelectorAll("optgroup[data-direction]").forEach(function (group) {
          const fits = group.dataset.direction === direction;
          group.hidden = !fits;
          group.disabled = !fits;
          if (!fits && group.querySelector("option:checked")) {
            row.querySelector("[name=line_category_id]").value = "";
          }
        });
        const rate = row.querySelector("[name=line_vat_rate]");
        if (rate) {
          rate.querySelectorAll("option").forEach(function (o) {
            o.disabled = noVat && o.value !== "0";
          });
          if (noVat) rate.value = "0";
        }
      });
    }

    form.addEventListener("input", recalc);
    form.addEventListener("change", function (event) {
      if (event.target.name === "direction") applyDirection();
      recalc();
    });
    form.addEventListener("click", function (event) {
      if (event.target.closest("[data-add-line]")) applyDirection();
    });
    applyDirection();
    recalc();
  }

  /* ---------------------------------------------------------------- cash entry form */

  function setupCashForm(form) {
    const preview = form.querySelector("[data-cash-preview]");
    const category = form.querySelector("[name=category_id]");
    const rateSelect = form.querySelector("[name=vat_rate]");
    const deductible = form.querySelector("[name=input_vat_deductible]");

    function recalc() {
      if (!preview) return;
      const amount = parseScaled(form.querySelector("[name=amount]").value, 2);
      const modeInput = form.querySelector("[name=amount_mode]:checked");
      const mode = modeInput ? modeInput.value : "gross";
      const rate = parseScaled(rateSelect ? rateSelect.value : "0", 2) || 0n;
      const cells = {
        net: preview.querySelector("[data-net]"),
        vat: preview.querySelector("[data-vat]"),
        gross: preview.querySelector("[data-gross]"),
      };
      if (amount === null) {
        Object.values(cells).forEach(function (c) { if (c) c.textContent = "–"; });
        return;
      }
      let net, vat, gross;
      if (mode === "net") {
        net = amount;
        vat = roundDiv(amount * rate, 10000n);
        gross = net + vat;
      } else {
        gross = amount;
        net = roundDiv(amount * 10000n, 10000n + rate);
        vat = gross - net;
      }
      cells.net.textContent = money(net);
      cells.vat.textContent = money(vat);
      cells.gross.textContent = money(gross);
    }

    if (category) {
      category.addEventListener("change", function () {
        const option = category.selectedOptions[0];
        if (!option) return;
        if (rateSelect && option.dataset.rate !== undefined && !rateSelect.disabled) {
          rateSelect.value = option.dataset.rate;
        }
        if (deductible && option.dataset.deductible !== undefined) {
          deductible.checked = option.dataset.deductible === "1";
        }
        const kind = option.dataset.direction;
        if (kind) {
          const radio = form.querySelector("[name=direction][value=" + kind + "]");
          if (radio) radio.checked = true;
        }
        recalc();
      });
    }
    form.addEventListener("input", recalc);
    form.addEventListener("change", recalc);
    recalc();
  }

  /* ---------------------------------------------------------------- cash count */

  function setupCountForm(form) {
    const expected = BigInt(form.dataset.expected || "0");
    const totalCell = form.querySelector("[data-count-total]");
    const diffCell = form.querySelector("[data-count-diff]");

    function recalc() {
      let total = 0n;
      form.querySelectorAll("[data-denom]").forEach(function (input) {
        const count = parseScaled(input.value, 0);
        const line = input.closest("tr").querySelector("[data-line-total]");
        if (count === null || count < 0n) {
          if (line) line.textContent = input.value.trim() ? "?" : "";
          return;
        }
        const cents = count * BigInt(input.dataset.denom);
        total += cents;
        if (line) line.textContent = count ? money(cents) : "";
      });
      if (totalCell) totalCell.textContent = money(total);
      if (diffCell) {
        const diff = total - expected;
        diffCell.textContent = (diff > 0n ? "+" : "") + money(diff);
        diffCell.classList.toggle("difference-zero", diff === 0n);
        diffCell.classList.toggle("difference-nonzero", diff !== 0n);
      }
    }

    form.addEventListener("input", recalc);
    recalc();
  }

  /* ---------------------------------------------------------------- misc */

  document.addEventListener("click", function (event) {
    const confirmer = event.target.closest("[data-confirm]");
    if (confirmer && !window.confirm(confirmer.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    document.querySelectorAll("details.switcher[open]").forEach(function (d) {
      if (!d.contains(event.target)) d.removeAttribute("open");
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-invoice-form]").forEach(setupInvoiceForm);
    document.querySelectorAll("form[data-cash-form]").forEach(setupCashForm);
    document.querySelectorAll("form[data-count-form]").forEach(setupCountForm);
    document.querySelectorAll("[data-autofocus]").forEach(function (el) { el.focus(); });
  });
})();

/* ---------------------------------------------------------------- banking
   The import preview reloads when the account or the template changes (new duplicate count,
   preview read with the chosen template); the template editor reads the columns again when
   the delimiter, the header line or the header switch change. Without JavaScript the buttons
   on the pages do the same. */
(function () {
  "use strict";

  /* A category belongs to business lines only: the select is off for private money. */
  function businessOnly(form) {
    const usage = form.querySelector("[name=usage]");
    const category = form.querySelector("[name=category_id]");
    if (!usage || !category) return;
    category.disabled = usage.value !== "" && usage.value !== "business";
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-decide-form], form#new-rule, form#rule-form")
      .forEach(businessOnly);
  });

  document.addEventListener("change", function (event) {
    const input = event.target;
    if (!(input instanceof HTMLElement)) return;
    const param = input.dataset ? input.dataset.refresh : undefined;
    if (param) {
      const url = new URL(window.location.href);
      url.searchParams.delete("done");
      if (input.value) {
        url.searchParams.set(param, input.value);
      } else {
        url.searchParams.delete(param);
      }
      window.location.assign(url.toString());
      return;
    }
    if (input.name === "usage") {
      const decide = input.closest("form");
      if (decide) businessOnly(decide);
    }
    const editor = input.closest("form#template-editor");
    if (editor && (input.hasAttribute("data-editor-refresh") || input.name === "header")) {
      const button = editor.querySelector("#refresh-columns");
      if (button) button.click();
    }
  });
})();
