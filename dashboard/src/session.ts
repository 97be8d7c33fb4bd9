/** The signed-in key: in sessionStorage only (this tab, until it closes or the user signs out). */
const KEY = 'feedback-loops.key';
const ROLE = 'feedback-loops.role';

export type Role = 'account' | 'admin';

export const session = {
  key: () => sessionStorage.getItem(KEY),
  role: () => sessionStorage.getItem(ROLE) as Role | null,
  signIn(key: string, role: Role) {
    sessionStorage.setItem(KEY, key);
    sessionStorage.setItem(ROLE, role);
  },
  signOut() {
    sessionStorage.removeItem(KEY);
    sessionStorage.removeItem(ROLE);
  },
};
