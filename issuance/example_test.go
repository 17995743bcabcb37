package issuance_test

import (
	"fmt"
	"time"

	"github.com/volcard/volcard/issuance"
)

func ExampleParseResidentID() {
	id, err := issuance.ParseResidentID("11010519491231002x", time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(id.RegionCode, id.BirthDate.Format("2006-01-02"), id.Gender)
	_, err = issuance.ParseResidentID("110105199902300021", time.Now())
	fmt.Println(err)
	// Output:
	// 110105 1949-12-31 female
	// invalid id_number: bad birth date
}

func ExampleEmbossName() {
	fmt.Println(issuance.EmbossName("张三"))
	fmt.Println(issuance.EmbossName("吕小布"))
	// Output:
	// ZHANG SAN
	// LV XIAOBU
}

func ExampleCheckTransition() {
	err := issuance.CheckTransition(issuance.StatusBankPending, issuance.StatusCancelled)
	fmt.Println(err)
	// Output:
	// illegal status transition bank_pending → cancelled
}
