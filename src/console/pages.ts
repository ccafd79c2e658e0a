/**
 * The console's pages, in nav order. Each page module adds its own line here (and nothing else).
 */
import type { ConsolePage } from './console-page';
import { campaignsPage } from './campaigns-page';
import { ledgerPage } from './ledger-page';
import { overviewPage } from './overview-page';

export const CONSOLE_PAGES: readonly ConsolePage[] = [
  overviewPage,
  ledgerPage,
  campaignsPage,
  // console-pages: rulesPage, configPage, ordersPage, cardsPage, sandboxPage
];
