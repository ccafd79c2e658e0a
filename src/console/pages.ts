/**
 * The console's pages, in nav order. Each page module adds its own line here (and nothing else).
 */
import type { ConsolePage } from './console-page';
import { campaignsPage } from './campaigns-page';
import { cardsPage } from './cards-page';
import { configPage } from './config-page';
import { ledgerPage } from './ledger-page';
import { ordersPage } from './orders-page';
import { overviewPage } from './overview-page';
import { rulesPage } from './rules-page';
import { sandboxPage } from './sandbox-page';

export const CONSOLE_PAGES: readonly ConsolePage[] = [overviewPage, ledgerPage, campaignsPage, rulesPage, configPage, ordersPage, cardsPage, sandboxPage];
