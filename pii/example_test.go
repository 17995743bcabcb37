package pii_test

import (
	"fmt"

	"github.com/volcard/volcard/pii"
)

func ExampleSecret() {
	id := pii.IDNumber("11010519491231002X")
	phone := pii.Phone("13812345678")
	fmt.Println(id, phone, pii.Name("张三丰"))
	fmt.Printf("%q %+v\n", id, struct{ Phone pii.Secret }{phone})
	// Output:
	// 1101**********002X 138****5678 张*丰
	// "1101**********002X" {Phone:138****5678}
}

func ExampleKeys() {
	key, _ := pii.ParseDataKey("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	keys, _ := pii.New(key)
	sealed, _ := keys.Seal("volunteer.phone", "13812345678")
	plain, _ := keys.Open("volunteer.phone", sealed)
	fmt.Println(plain, len(keys.Index("id_number", "11010519491231002X")))
	// Output:
	// 13812345678 32
}

func ExampleMaskPAN() {
	fmt.Println(pii.MaskPAN("6216600000000000018"))
	// Output: 621660*********0018
}
