#include "lang/machine.h"

namespace saturn {

Runner::Runner(std::shared_ptr<Machine> machine) : machine_(std::move(machine)) {
  machine_->assign(layout_);
}

Config Runner::start() const {
  Config c = layout_.empty_config();
  machine_->start(c);
  return c;
}

bool Runner::accepts(const Word& w) const {
  Config c = start();
  for (Symbol s : w) machine_->step(c, s);
  return machine_->accepting(c);
}

void append_config(const Config& c, Key& out) {
  out.insert(out.end(), c.regs.begin(), c.regs.end());
  for (const auto& st : c.stacks) {
    out.push_back(static_cast<std::int64_t>(st.size()));
    out.insert(out.end(), st.begin(), st.end());
  }
}

}  // namespace saturn
